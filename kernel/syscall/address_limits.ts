// RLIMIT_AS and RLIMIT_DATA, as Linux's may_expand_vm checks them: the
// address space may not grow past RLIMIT_AS in all, nor its private
// writable memory that is not stack (the heap, and mappings like it) past
// RLIMIT_DATA. Growth that would is ENOMEM: mmap, brk, mremap.
import { AddressSpace, regionsOf } from "../mm/address_space";
import { PROT_WRITE, REGION_SHARED, REGION_STACK, regionAt } from "../mm/region";
import { Process, spaceOf } from "../proc/process";
import { RLIMIT_AS, RLIMIT_DATA, RLIM_INFINITY, softLimit } from "../proc/resource_limits";

function mappedBytes(space: AddressSpace, dataOnly: bool): u64 {
  const set = regionsOf(space);
  let total: u64 = 0;
  for (let i: u32 = 0; i < set.count; i++) {
    const region = regionAt(set, i);
    const data = (region.protection & PROT_WRITE) != 0 && (region.flags & (REGION_SHARED | REGION_STACK)) == 0;
    if (!dataOnly || data) total += region.end - region.start;
  }
  return total;
}

/** Whether `growth` more bytes (of private writable memory, if `data`) would pass the process's limits. */
export function exceedsLimits(process: Process, growth: u64, data: bool): bool {
  const space = spaceOf(process);
  const addressLimit = softLimit(process, RLIMIT_AS);
  const dataLimit = softLimit(process, RLIMIT_DATA);
  if (addressLimit != RLIM_INFINITY && mappedBytes(space, false) + growth > addressLimit) return true;
  return data && dataLimit != RLIM_INFINITY && mappedBytes(space, true) + growth > dataLimit;
}

// FUTEX_WAKE_OP's operation word (Linux's futex_atomic_op_inuser):
//   bits 28-30 op, bit 31 FUTEX_OP_OPARG_SHIFT, bits 24-27 cmp,
//   bits 12-23 oparg, bits 0-11 cmparg (both 12-bit signed).
// The op is applied to the word at uaddr2 (one CPU and a kernel that is
// not preempted: the read and the write are one atomic step), then cmp
// tells whether the old value wakes the waiters on uaddr2.
import { AddressSpace } from "../mm/address_space";
import { copyFromUser, putUser32 } from "../mm/user_copy";
import { EFAULT, ENOSYS } from "./errno";

const FUTEX_OP_SET: u32 = 0;
const FUTEX_OP_ADD: u32 = 1;
const FUTEX_OP_OR: u32 = 2;
const FUTEX_OP_ANDN: u32 = 3;
const FUTEX_OP_XOR: u32 = 4;
const FUTEX_OP_OPARG_SHIFT: u32 = 8; // in the op field: oparg is a shift count, the operand 1 << oparg

@inline function signExtend12(value: u32): i32 {
  return (<i32>(value << 20)) >> 20;
}

function apply(op: u32, old: u32, operand: u32): i64 {
  switch (op) {
    case FUTEX_OP_SET: return <i64>operand;
    case FUTEX_OP_ADD: return <i64>(old + operand);
    case FUTEX_OP_OR: return <i64>(old | operand);
    case FUTEX_OP_ANDN: return <i64>(old & ~operand);
    case FUTEX_OP_XOR: return <i64>(old ^ operand);
  }
  return -1;
}

function compare(cmp: u32, old: i32, argument: i32): i64 {
  switch (cmp) {
    case 0: return old == argument ? 1 : 0; // FUTEX_OP_CMP_EQ
    case 1: return old != argument ? 1 : 0; // NE
    case 2: return old < argument ? 1 : 0; // LT
    case 3: return old <= argument ? 1 : 0; // LE
    case 4: return old > argument ? 1 : 0; // GT
    case 5: return old >= argument ? 1 : 0; // GE
  }
  return -ENOSYS;
}

/**
 * Applies `encoded` to the word at `address`: 1 if its comparison holds
 * for the old value, 0 if not, or -EFAULT, or -ENOSYS for an unknown op
 * (nothing written) or comparison (written all the same, as Linux).
 */
export function futexAtomicOp(space: AddressSpace, address: u64, encoded: u32): i64 {
  const op = (encoded >> 28) & 7;
  const cmp = (encoded >> 24) & 15;
  let operand = <u32>signExtend12((encoded >> 12) & 0xfff);
  const argument = signExtend12(encoded & 0xfff);
  // Linux masks a shift out of 0..31 (with a warning) rather than refusing it.
  if (((encoded >> 28) & FUTEX_OP_OPARG_SHIFT) != 0) operand = 1 << (operand & 31);
  const word = memory.data(4, 4);
  if (!copyFromUser(space, <u32>word, address, 4)) return -EFAULT;
  const old = load<u32>(word);
  const updated = apply(op, old, operand);
  if (updated < 0) return -ENOSYS;
  if (!putUser32(space, address, <u32>updated)) return -EFAULT;
  return compare(cmp, <i32>old, argument);
}

/* The 32 MiB program exec benchmarks start: 32 MiB of initialized data in
 * the file, of which it touches three pages. Lazy exec means its start-up
 * costs what the small program's does. */
#define SIZE (32 << 20)
static const volatile char blob[SIZE] = { 1 };
int main(void) {
    return blob[0] + blob[SIZE / 2] + blob[SIZE - 1] == 1 ? 0 : 1;
}

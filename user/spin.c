/* spin: says "spinning", then burns CPU forever. For testing Ctrl-C (the
 * console kills it with SIGINT) and preemption. */
#include <unistd.h>

int main(void) {
    write(1, "spinning\n", 9);
    for (volatile unsigned long n = 0;; n++) {
    }
}

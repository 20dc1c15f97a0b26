/* The small program exec benchmarks start: exits at once. */
int main(void) { return 0; }

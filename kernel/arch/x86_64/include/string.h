/* Freestanding string functions, implemented in runtime.c. */
#pragma once
#include <stddef.h>
void *memset(void *dest, int value, size_t n);
void *memcpy(void *dest, const void *src, size_t n);
void *memmove(void *dest, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);

// Replaces the malloc family for the whole process (a definition in the executable comes before
// libc's in symbol lookup, for every shared library too) and forwards to glibc's own entry points,
// counting each new block with one relaxed atomic increment. glibc only: elsewhere nothing is
// replaced and the counter stays at 0.
#include "AllocationCounter.h"

#if defined(__linux__) && defined(__GLIBC__)
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static _Atomic int64_t counted_mallocs;

static inline void count(void) {
    atomic_fetch_add_explicit(&counted_mallocs, 1, memory_order_relaxed);
}

void *malloc(size_t size) {
    count();
    return __libc_malloc(size);
}

void *calloc(size_t count_, size_t size) {
    count();
    return __libc_calloc(count_, size);
}

void *realloc(void *pointer, size_t size) {
    if (pointer == NULL) count();
    return __libc_realloc(pointer, size);
}

void free(void *pointer) { __libc_free(pointer); }

void *memalign(size_t alignment, size_t size) {
    count();
    return __libc_memalign(alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size) {
    count();
    return __libc_memalign(alignment, size);
}

int posix_memalign(void **result, size_t alignment, size_t size) {
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0) return EINVAL;
    count();
    void *pointer = __libc_memalign(alignment, size);
    if (pointer == NULL && size != 0) return ENOMEM;
    *result = pointer;
    return 0;
}

int64_t allocation_counter_mallocs(void) {
    return atomic_load_explicit(&counted_mallocs, memory_order_relaxed);
}

int allocation_counter_is_active(void) {
    int64_t before = allocation_counter_mallocs();
    void *volatile pointer = malloc(16);
    free(pointer);
    return allocation_counter_mallocs() > before;
}

#else

int64_t allocation_counter_mallocs(void) { return 0; }
int allocation_counter_is_active(void) { return 0; }

#endif

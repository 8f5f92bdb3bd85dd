#include "HeapUsage.h"

#if defined(__linux__) && defined(__GLIBC__)
#include <malloc.h>

int64_t heap_usage_in_use_bytes(void) {
    struct mallinfo2 info = mallinfo2();
    return (int64_t)info.uordblks;
}

#else

int64_t heap_usage_in_use_bytes(void) { return 0; }

#endif

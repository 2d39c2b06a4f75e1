// Linked only into builds with a static libstdc++ (CMakeLists.txt, FUSED_OPTIM_STATIC_RUNTIME).
//
// libstdc++.a of GCC 12 built on glibc >= 2.36 refers to arc4random (GLIBC_2.36) from
// std::random_device, which the static link pulls in (through the COW-string instantiations)
// although the addon never makes a random_device. This definition satisfies that reference
// inside the addon, so the binary does not need glibc 2.36 and loads on any glibc >= 2.34
// (the floor set by pthread_* and dl*, which moved into libc in 2.34). It has hidden
// visibility: nothing outside the addon sees it. It draws from getrandom(2) (glibc 2.25).
#include <sys/random.h>

#include <cstdint>
#include <cerrno>
#include <cstdlib>

extern "C" __attribute__((visibility("hidden"))) uint32_t arc4random(void) {
  uint32_t v = 0;
  unsigned char* p = reinterpret_cast<unsigned char*>(&v);
  size_t got = 0;
  while (got < sizeof v) {
    ssize_t n = getrandom(p + got, sizeof v - got, 0);
    if (n > 0) got += static_cast<size_t>(n);
    else if (n < 0 && errno != EINTR) std::abort();  // like arc4random: never returns a weak value
  }
  return v;
}

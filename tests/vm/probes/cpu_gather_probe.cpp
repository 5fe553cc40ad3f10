// The guest CPU's AVX2 gathers: llvmpipe samples textures with VPGATHERDD when the CPU offers
// AVX2, and qemu 7.2's TCG gets VSIB addressing with index register xmm4/ymm4 wrong (it takes
// the SIB index 100 for "no index": every lane reads the base address, or it faults), which
// crashed every GL program in the guest. The tier boots with -cpu max,-avx2; this probe fails
// if the guest CPU offers AVX2 and gets such a gather wrong, so a change of CPU model or
// emulator shows up here rather than as a crash in Mesa's JIT code.
#include "probe.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>

namespace syncway::vm {

namespace {

// Byte offsets and scale 1, as llvmpipe's texel fetches use them; lanes 0-2 masked off.
constexpr int32_t offsets[8] = {128, 132, 256, 260, 136, 140, 264, 268};
constexpr int32_t mask[8] = {0, 0, 0, -1, -1, -1, -1, -1};

// The encoding llvmpipe's JIT emitted where the guest crashed: index register ymm4, which the
// SIB byte encodes as 100 ("no index" outside VSIB addressing), mask ymm1, result ymm3.
void gather(const uint32_t* table, uint32_t* out)
{
    __asm__ volatile("vmovdqu %[offsets], %%ymm4\n\t"
                     "vmovdqu %[mask], %%ymm1\n\t"
                     "vpxor %%ymm3, %%ymm3, %%ymm3\n\t"
                     "vpgatherdd %%ymm1, (%[base], %%ymm4, 1), %%ymm3\n\t"
                     "vmovdqu %%ymm3, %[out]\n\t"
                     "vzeroupper"
                     : [out] "=m"(*reinterpret_cast<uint32_t(*)[8]>(out))
                     : [base] "r"(table), [offsets] "m"(offsets), [mask] "m"(mask)
                     : "xmm1", "xmm3", "xmm4", "memory");
}

} // namespace

Status probe_cpu_gather()
{
    if (!__builtin_cpu_supports("avx2")) {
        std::printf("the CPU offers no AVX2: llvmpipe fetches texels without VPGATHERDD\n");
        return Ok{};
    }
    uint32_t table[128];
    for (uint32_t i = 0; i < 128; ++i)
        table[i] = 0x1000 + i;
    int pipefd[2];
    if (::pipe(pipefd) != 0)
        return sys_error("pipe");
    // In a child: an emulator that faults on the gather must not take the probe with it.
    pid_t pid = ::fork();
    if (pid < 0)
        return sys_error("fork");
    if (pid == 0) {
        uint32_t out[8] = {};
        gather(table, out);
        ssize_t n = ::write(pipefd[1], out, sizeof out);
        ::_exit(n == sizeof out ? 0 : 1);
    }
    ::close(pipefd[1]);
    uint32_t out[8] = {};
    ssize_t got = ::read(pipefd[0], out, sizeof out);
    ::close(pipefd[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (WIFSIGNALED(status))
        return wrong("VPGATHERDD killed the process with signal " + std::to_string(WTERMSIG(status)) +
                     ": this CPU (or emulator) executes AVX2 gathers wrongly and llvmpipe would crash; boot the "
                     "guest without AVX2 (-cpu max,-avx2)");
    if (got != sizeof out)
        return wrong("the gathering child wrote no result");
    for (int i = 0; i < 8; ++i) {
        uint32_t want = mask[i] ? table[offsets[i] / 4] : 0;
        if (out[i] != want) {
            char msg[200];
            std::snprintf(msg, sizeof msg, "VPGATHERDD lane %d (byte offset %d) read %#x, expected %#x", i, offsets[i],
                          out[i], want);
            return wrong(std::string(msg) + ": this CPU (or emulator) executes AVX2 gathers wrongly and llvmpipe "
                                            "would sample wrong texels or crash; boot the guest without AVX2 "
                                            "(-cpu max,-avx2)");
        }
    }
    std::printf("the CPU offers AVX2 and VPGATHERDD reads the right lanes\n");
    return Ok{};
}

} // namespace syncway::vm

// B5: allocate + map + first touch of a 1920x1080 XRGB8888 buffer, per backend, beside memfd
// (the baseline) measured in the same run. Freeing is outside the timed part. Also, per
// backend, the cost of one CPU sample bracket (fence poll + DMA_BUF_IOCTL_SYNC START/END).
//   bench-heaps-alloc [RUNS]     (default 200)
#include "syncway/heaps/allocator.hpp"
#include "syncway/heaps/buffer_layout.hpp"
#include "syncway/heaps/cpu_access.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace syncway::heaps;
using Clock = std::chrono::steady_clock;

namespace {

struct Figure {
    double p50_us = 0, p90_us = 0;
};

double percentile(std::vector<double> v, double p)
{
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

// One timed run: allocate, map, write the first byte of every page. Returns < 0 on failure.
double run_once(const Allocator& allocator, const AllocationRequest& request, std::string& error)
{
    auto start = Clock::now();
    auto buffer = allocator.allocate(request);
    if (!buffer) {
        error = buffer.error().message;
        return -1;
    }
    auto mapping = buffer->map();
    if (!mapping) {
        error = mapping.error().message;
        return -1;
    }
    auto* bytes = mapping->as<volatile unsigned char>();
    size_t page = page_size();
    for (uint64_t i = 0; i < buffer->size; i += page)
        bytes[i] = 1;
    return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

// What a compositor pays each time it samples the buffer: the non-blocking fence check and
// the DMA_BUF_IOCTL_SYNC bracket (nothing for a memfd but the poll). Microseconds, p50.
double bracket_p50(const Buffer& buffer, int runs)
{
    std::vector<double> samples;
    for (int i = 0; i < runs; ++i) {
        auto start = Clock::now();
        auto ready = wait_for_fences(buffer.fd.get(), Access::Read, 0);
        if (ready.ok() && ready.value()) {
            auto access = CpuAccess::begin(buffer.fd.get(), Access::Read);
        }
        samples.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
    }
    return percentile(samples, 0.5);
}

} // namespace

int main(int argc, char** argv)
{
    int runs = argc > 1 ? std::atoi(argv[1]) : 200;
    if (runs < 1) {
        std::fprintf(stderr, "usage: %s [RUNS]\n", argv[0]);
        return 2;
    }
    auto layout = compute_layout(static_cast<uint32_t>(PixelFormat::XRGB8888), 1920, 1080);
    if (!layout) {
        std::fprintf(stderr, "%s\n", layout.error().message.c_str());
        return 1;
    }
    Allocator allocator;
    std::printf("B5 allocate + map + first touch (one write per page), 1920x1080 XRGB8888, %llu bytes, %d runs\n",
                static_cast<unsigned long long>(layout->alloc_size), runs);
    std::printf("%-8s %10s %10s %10s %14s\n", "backend", "p50 us", "p90 us", "p50/memfd", "sample us p50");

    double memfd_p50 = 0;
    for (BackendChoice choice : {BackendChoice::Memfd, BackendChoice::Udmabuf, BackendChoice::Heap}) {
        AllocationRequest request;
        request.size = layout->alloc_size;
        request.backend = choice;
        request.debug_name = "bench-b5";
        std::string error;
        // Interleaving would be fairer to page-cache state, but each backend's warm-up run
        // below already pays the one-time costs (device open paths, shmem inode caches).
        if (run_once(allocator, request, error) < 0) {
            std::printf("%-8s unavailable: %s\n", to_string(choice), error.c_str());
            continue;
        }
        std::vector<double> samples;
        samples.reserve(static_cast<size_t>(runs));
        for (int i = 0; i < runs; ++i) {
            double us = run_once(allocator, request, error);
            if (us < 0) {
                std::fprintf(stderr, "%s failed after %d runs: %s\n", to_string(choice), i, error.c_str());
                return 1;
            }
            samples.push_back(us);
        }
        Figure f{percentile(samples, 0.5), percentile(samples, 0.9)};
        if (choice == BackendChoice::Memfd)
            memfd_p50 = f.p50_us;
        auto kept = allocator.allocate(request);
        double sample_us = kept ? bracket_p50(kept.value(), 1000) : -1;
        std::printf("%-8s %10.1f %10.1f %10.2f %14.2f\n", to_string(choice), f.p50_us, f.p90_us, f.p50_us / memfd_p50,
                    sample_us);
    }
    return 0;
}

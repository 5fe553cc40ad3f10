// The kernel-facility probes of the VM tier: each exercises one facility the way syncway uses
// it and returns an error that says exactly which step misbehaved.
#pragma once

#include <syncway/result.hpp>

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace syncway::vm {

// "what: strerror(errno)" for a failed system call.
inline Error sys_error(std::string_view what, int err = errno)
{
    return make_error(err, std::string(what) + ": " + std::strerror(err));
}

// A failed expectation about the kernel's behaviour (not a failed call).
inline Error wrong(std::string what) { return make_error(EPROTO, std::move(what)); }

Status probe_dma_heap();
Status probe_udmabuf();
Status probe_sw_sync();
// If the CPU offers AVX2, its VPGATHERDD must read the right lanes (llvmpipe depends on it).
Status probe_cpu_gather();
// Fails unless every driver in `expected` drives exactly one card; prints each card.
Status probe_drm_cards(const std::vector<std::string>& expected);

} // namespace syncway::vm

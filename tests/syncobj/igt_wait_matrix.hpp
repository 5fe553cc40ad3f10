// The single-wait and multi-wait matrices of IGT syncobj_wait and syncobj_timeline: one test
// per flag combination, named as IGT names it ('-' → '_').
#pragma once

#include "igt_fixture.hpp"

#include <string>

namespace syncobj_test {

enum TestFlags : uint32_t {
    kTfForSubmit = 1 << 0,
    kTfAll = 1 << 1,
    kTfAvailable = 1 << 2,
    kTfUnsubmitted = 1 << 3,
    kTfSubmitted = 1 << 4,
    kTfSignaled = 1 << 5,
    kTfMax = (1 << 6) - 1,
};

inline uint32_t wait_flags_for(uint32_t tf)
{
    return ((tf & kTfForSubmit) ? SYNCOBJ_WAIT_FOR_SUBMIT : 0) | ((tf & kTfAll) ? SYNCOBJ_WAIT_ALL : 0) |
           ((tf & kTfAvailable) ? SYNCOBJ_WAIT_AVAILABLE : 0);
}

struct MatrixCase {
    uint32_t flags;
    int expect;
    std::string name;
};

inline std::string matrix_name(const char* base, uint32_t f, int err)
{
    std::string n = err == -EINVAL ? "invalid_" : err == -ETIME ? "etime_" : "";
    n += base;
    if (f & kTfAll) n += "_all";
    if (f & kTfForSubmit) n += "_for_submit";
    if (f & kTfAvailable) n += "_available";
    if (f & kTfUnsubmitted) n += "_unsubmitted";
    if (f & kTfSubmitted) n += "_submitted";
    if (f & kTfSignaled) n += "_signaled";
    return n;
}

// with_available: the timeline variants (syncobj_timeline); without: syncobj_wait, whose
// names carry no "etime-" prefix.
inline std::vector<MatrixCase> single_wait_cases(bool timeline)
{
    std::vector<MatrixCase> out;
    for (uint32_t f = 0; f < kTfMax; f++) {
        if (!timeline && (f & kTfAvailable))
            continue;
        if (__builtin_popcount(f & (kTfUnsubmitted | kTfSubmitted | kTfSignaled)) != 1)
            continue;
        auto expect = [f](bool waits_for_submit) {
            if ((f & kTfUnsubmitted) && !waits_for_submit)
                return -EINVAL;
            if (!(f & kTfSignaled) && !((f & kTfSubmitted) && (f & kTfAvailable)))
                return -ETIME;
            return 0;
        };
        // IGT names the case by its expectation, EINVAL for WAIT_AVAILABLE on an unsubmitted
        // point; the kernel (6.12, run in the VM tier) waits for submission there, so do we.
        int igt_err = expect(f & kTfForSubmit), err = expect(f & (kTfForSubmit | kTfAvailable));
        std::string name = matrix_name("single_wait", f, timeline ? igt_err : (igt_err == -EINVAL ? igt_err : 0));
        out.push_back({f, err, name});
    }
    return out;
}

inline std::vector<MatrixCase> multi_wait_cases(bool timeline)
{
    std::vector<MatrixCase> out;
    for (uint32_t f = 0; f < kTfMax; f++) {
        if (!timeline && (f & kTfAvailable))
            continue;
        if (!(f & (kTfUnsubmitted | kTfSubmitted | kTfSignaled)))
            continue;
        auto expect = [f](bool waits_for_submit) {
            if ((f & kTfUnsubmitted) && !waits_for_submit)
                return -EINVAL;
            if (f & kTfAll) {
                if (!(f & kTfUnsubmitted) && (f & kTfSubmitted) && (f & kTfAvailable))
                    return 0;
                return (f & (kTfUnsubmitted | kTfSubmitted)) ? -ETIME : 0;
            }
            if (!(f & kTfSignaled) && !((f & kTfSubmitted) && (f & kTfAvailable)))
                return -ETIME;
            return 0;
        };
        // Named as IGT names it; expected as the kernel (6.12) answers (see single_wait_cases).
        int igt_err = expect(f & kTfForSubmit), err = expect(f & (kTfForSubmit | kTfAvailable));
        std::string name = matrix_name("multi_wait", f, timeline ? igt_err : (igt_err == -EINVAL ? igt_err : 0));
        out.push_back({f, err, name});
    }
    return out;
}

} // namespace syncobj_test

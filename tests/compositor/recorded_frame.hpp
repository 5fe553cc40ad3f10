// The frame a `syncway --record DIR` run presented at a given time, as the recording holds it.
// A wp_presentation `presented` event carries the time of the frame that showed a commit; the
// trace's frame record of that time names the PNG of that very frame. A test that checks it
// looks at what was presented, not at a screenshot taken some time later.
#pragma once

#include "image.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace syncway::test {

// The frame of `output` presented at `presented_ns` (CLOCK_MONOTONIC): its own PNG, or the
// last one before it (a frame identical to the one before has none). nullopt, with the reason
// in *error, when the trace has no such frame or its PNG cannot be read.
std::optional<Image> recorded_frame(const std::string& dir, const std::string& output, uint64_t presented_ns,
                                    std::string* error = nullptr);

} // namespace syncway::test

// syncway-check's logic, separate from its command line so tests can call it: read a recording
// (trace.jsonl and its PNGs, docs/recording.md), verify the trace's invariants, compare frames
// with references.
#pragma once

#include <record/png_image.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace syncway::record {

struct Region {
    int x = 0, y = 0, width = 0, height = 0;
};

// One --expect: which recorded frame of which output must look like `reference`.
struct Expectation {
    std::string output;     // empty: the first output of the trace
    std::string which;      // "first" (first frame showing a client surface), "last", "any", or a sequence number
    std::string reference;  // PNG path
};

struct CheckOptions {
    std::string dir;
    std::vector<Expectation> expect;
    int tolerance = 0;  // per channel, 0..255
    std::optional<Region> region;
    std::string mask;      // PNG: black or fully transparent pixels are not compared
    std::string diff_dir;  // empty: dir
    bool invariants = true;
};

struct Finding {
    std::string check;    // e.g. "acquire-before-present", "frame-mismatch"
    std::string message;  // a sentence naming the commit or frame
};

struct CheckReport {
    // Bad input (status 2): the first problem that made checking impossible.
    std::optional<std::string> bad_input;
    std::vector<Finding> findings;  // status 1 when not empty
    size_t commits = 0, frames = 0, frame_files = 0, clients = 0, comparisons = 0;
    std::string end_reason;

    int status() const { return bad_input ? 2 : findings.empty() ? 0 : 1; }
};

CheckReport check_recording(const CheckOptions& options);

// Parses "X,Y,WxH".
std::optional<Region> parse_region(const std::string& text);

} // namespace syncway::record

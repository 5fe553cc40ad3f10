#include <record/check.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <set>

namespace syncway::record {
namespace {

using json = nlohmann::json;

constexpr int kTraceVersion = 1;

// Input that makes checking impossible; becomes CheckReport::bad_input.
struct BadInput {
    std::string message;
};

std::string to_ms(int64_t ns)
{
    char s[32];
    std::snprintf(s, sizeof s, "%.3f ms", double(ns) / 1e6);
    return s;
}

// A field read with its type checked: a trace that says "t": "soon" is bad input, named.
std::optional<int64_t> time_field(const json& record, const char* name, size_t line)
{
    auto it = record.find(name);
    if (it == record.end() || it->is_null())
        return std::nullopt;
    if (!it->is_number_integer())
        throw BadInput{"trace.jsonl line " + std::to_string(line) + ": field '" + name + "' is not an integer"};
    return it->get<int64_t>();
}

struct Frame {
    std::string output;
    uint64_t sequence = 0;
    int64_t t = 0;
    std::string file;  // empty: same as the previous frame of its output
    bool shows_clients = false;
    std::vector<std::pair<uint64_t, uint64_t>> surfaces;  // (client, surface)
    size_t line = 0;
};

struct Trace {
    std::vector<std::pair<json, size_t>> commits;  // with line numbers
    std::vector<Frame> frames;
    std::vector<std::string> outputs;
    // Per output, the times it was off: [turned off, turned on again) (on again: INT64_MAX
    // while it never was).
    std::map<std::string, std::vector<std::pair<int64_t, int64_t>>> off;
    std::map<uint64_t, int64_t> client_gone;
    std::map<uint64_t, std::string> client_names;
    std::string end_reason;
};

Trace read_trace(const std::string& dir)
{
    std::string path = dir + "/trace.jsonl";
    std::ifstream in(path);
    if (!in)
        throw BadInput{path + ": cannot open (not a recording directory? record with syncway --record DIR)"};
    Trace trace;
    std::string text;
    size_t line = 0;
    bool header = false, end = false;
    while (std::getline(in, text)) {
        ++line;
        if (text.empty())
            continue;
        json record = json::parse(text, nullptr, false);
        if (record.is_discarded() || !record.is_object())
            throw BadInput{path + " line " + std::to_string(line) + ": not a JSON object (truncated trace?)"};
        std::string type = record.value("type", "");
        if (!header) {
            if (type != "header")
                throw BadInput{path + " line " + std::to_string(line) + ": expected the header record first"};
            if (record.value("version", 0) != kTraceVersion)
                throw BadInput{path + ": trace version " + record["version"].dump() + ", this syncway-check reads " +
                               std::to_string(kTraceVersion)};
            header = true;
            continue;
        }
        if (end)
            throw BadInput{path + " line " + std::to_string(line) + ": records after the end record"};
        if (type == "commit") {
            trace.commits.emplace_back(std::move(record), line);
        } else if (type == "frame") {
            Frame f;
            f.output = record.value("output", "");
            f.sequence = record.value("sequence", uint64_t(0));
            f.t = time_field(record, "t", line).value_or(0);
            if (record.contains("file") && record["file"].is_string())
                f.file = record["file"].get<std::string>();
            if (f.file.find('/') != std::string::npos)
                throw BadInput{path + " line " + std::to_string(line) + ": frame file '" + f.file + "' is not a plain name"};
            if (record.contains("surfaces") && record["surfaces"].is_array())
                for (const json& s : record["surfaces"])
                    if (s.is_object())
                        f.surfaces.emplace_back(s.value("client", uint64_t(0)), s.value("surface", uint64_t(0)));
            f.shows_clients = !f.surfaces.empty();
            f.line = line;
            trace.frames.push_back(std::move(f));
        } else if (type == "output") {
            // Written when an output is enabled: at its start, and again when it is turned on
            // after an output_off.
            std::string name = record.value("name", "");
            if (std::find(trace.outputs.begin(), trace.outputs.end(), name) == trace.outputs.end())
                trace.outputs.push_back(name);
            if (auto off = trace.off.find(name);
                off != trace.off.end() && off->second.back().second == std::numeric_limits<int64_t>::max())
                off->second.back().second = time_field(record, "t", line).value_or(0);
        } else if (type == "output_off") {
            std::string name = record.value("name", "");
            auto& spans = trace.off[name];
            if (spans.empty() || spans.back().second != std::numeric_limits<int64_t>::max())
                spans.emplace_back(time_field(record, "t", line).value_or(0), std::numeric_limits<int64_t>::max());
        } else if (type == "client") {
            std::string name;
            if (record.contains("cmdline") && record["cmdline"].is_array() && !record["cmdline"].empty() &&
                record["cmdline"][0].is_string())
                name = record["cmdline"][0].get<std::string>();
            trace.client_names[record.value("client", uint64_t(0))] =
                name + " (pid " + std::to_string(record.value("pid", 0)) + ")";
        } else if (type == "client_gone") {
            trace.client_gone[record.value("client", uint64_t(0))] = time_field(record, "t", line).value_or(0);
        } else if (type == "end") {
            trace.end_reason = record.value("reason", "");
            end = true;
        }
        // Unknown types are skipped: later versions may add records a reader does not need.
    }
    if (!header)
        throw BadInput{path + ": empty trace (no header record)"};
    if (!end)
        throw BadInput{path + ": no end record after line " + std::to_string(line) +
                       " (truncated trace: was syncway killed, or the disk full?)"};
    return trace;
}

void check_invariants(const Trace& trace, CheckReport& report)
{
    auto name = [&](const json& c) {
        uint64_t client = c.value("client", uint64_t(0));
        auto it = trace.client_names.find(client);
        std::string who = it != trace.client_names.end() ? it->second : "client " + std::to_string(client);
        return who + ", surface " + std::to_string(c.value("surface", uint64_t(0))) + " commit " +
               std::to_string(c.value("seq", uint64_t(0)));
    };
    auto add = [&](const char* check, std::string message) { report.findings.push_back({check, std::move(message)}); };
    std::map<std::pair<uint64_t, uint64_t>, std::vector<uint64_t>> seqs;
    for (const auto& [c, line] : trace.commits) {
        seqs[{c.value("client", uint64_t(0)), c.value("surface", uint64_t(0))}].push_back(c.value("seq", uint64_t(0)));
        auto acquired = time_field(c, "t_acquire_signaled", line);
        auto applied = time_field(c, "t_applied", line);
        auto released = time_field(c, "t_release_signaled", line);
        auto last_presented = time_field(c, "t_last_presented", line);
        std::optional<int64_t> presented;
        if (c.contains("presented") && c["presented"].is_object())
            presented = time_field(c["presented"], "t", line);
        bool has_acquire = c.contains("acquire") && c["acquire"].is_object();
        bool has_release = c.contains("release") && c["release"].is_object();
        if (has_acquire && presented && (!acquired || *acquired > *presented))
            add("acquire-before-present",
                name(c) + ": presented on " + c["presented"].value("output", "?") + " frame " +
                    std::to_string(c["presented"].value("sequence", 0)) + " " +
                    (acquired ? to_ms(*acquired - *presented) + " before its acquire point signaled"
                              : "while its acquire point never signaled"));
        else if (has_acquire && applied && acquired && *applied < *acquired)
            add("acquire-before-present",
                name(c) + ": applied " + to_ms(*acquired - *applied) + " before its acquire point signaled");
        if (has_release && !released)
            add("release-signaled", name(c) + ": its release point was never signaled");
        if (has_release && released && last_presented && *released < *last_presented)
            add("release-after-last-present", name(c) + ": release point signaled " +
                                                  to_ms(*last_presented - *released) +
                                                  " before the last frame that showed the buffer");
        if (c.contains("hash_applied") && c["hash_applied"].is_string() && c.contains("hash_released") &&
            c["hash_released"].is_string() && c["hash_applied"] != c["hash_released"])
            add("buffer-written-before-release",
                name(c) + ": the buffer's content changed between its acquire point and its release "
                          "(the client wrote into a buffer the compositor was still using)");
        bool dropped = c.value("acquire_failed", false);
        bool attaches = c.contains("buffer") && c["buffer"].is_object();
        if (attaches && !dropped && !applied && !c.value("surface_gone", false))
            add("commit-lost", name(c) + ": committed but never applied");
        if (auto gone = trace.client_gone.find(c.value("client", uint64_t(0)));
            gone != trace.client_gone.end() && presented && *presented > gone->second)
            add("presented-after-client-died", name(c) + ": first presented " + to_ms(*presented - gone->second) +
                                                   " after its client disconnected");
    }
    for (auto& [key, list] : seqs) {
        std::sort(list.begin(), list.end());
        for (size_t i = 1; i < list.size(); ++i)
            if (list[i] != list[i - 1] + 1)
                add("commit-lost", "client " + std::to_string(key.first) + ", surface " + std::to_string(key.second) +
                                       ": commits " + std::to_string(list[i - 1] + 1) + ".." +
                                       std::to_string(list[i] - 1) + " are missing from the trace");
    }
    for (const Frame& f : trace.frames) {
        auto off = trace.off.find(f.output);
        if (off == trace.off.end())
            continue;
        for (auto [from, to] : off->second)
            if (f.t >= from && f.t < to)
                add("presented-on-disabled-output",
                    "frame " + f.output + " " + std::to_string(f.sequence) + " presented " + to_ms(f.t - from) +
                        " after the output was turned off" +
                        (to == std::numeric_limits<int64_t>::max() ? std::string(" (it never came back on)")
                                                                   : ", " + to_ms(to - f.t) + " before it was on again"));
    }
    for (const Frame& f : trace.frames)
        for (auto [client, surface] : f.surfaces)
            if (auto gone = trace.client_gone.find(client); gone != trace.client_gone.end() && f.t > gone->second)
                add("presented-after-client-died", "frame " + f.output + " " + std::to_string(f.sequence) +
                                                       " shows surface " + std::to_string(surface) + " of client " +
                                                       std::to_string(client) + " " + to_ms(f.t - gone->second) +
                                                       " after it disconnected");
}

// The PNG that shows frame `index` of `frames` (one output's, in order): its own file, or the
// last one before it (a frame identical to the one before has no file).
std::string file_of(const std::vector<const Frame*>& frames, size_t index)
{
    for (size_t i = index + 1; i-- > 0;)
        if (!frames[i]->file.empty())
            return frames[i]->file;
    return "";
}

Image load(const std::string& path, const char* what)
{
    auto image = read_png(path);
    if (!image)
        throw BadInput{std::string(what) + " " + image.error().message};
    return std::move(image.value());
}

// Pixels that differ by more than `tolerance` in any channel; writes a diff image (mismatches
// red over a dimmed reference) when there are some.
size_t compare(const Image& frame, const Image& ref, const Image* mask, const CheckOptions& options,
               const std::string& diff_path, int& worst)
{
    Region r = options.region.value_or(Region{0, 0, frame.width, frame.height});
    Image diff = ref;
    for (size_t i = 0; i < diff.rgba.size(); i += 4)
        for (int c = 0; c < 3; ++c)
            diff.rgba[i + c] = uint8_t(diff.rgba[i + c] / 4);
    size_t bad = 0;
    worst = 0;
    for (int y = r.y; y < r.y + r.height; ++y)
        for (int x = r.x; x < r.x + r.width; ++x) {
            if (mask) {
                const uint8_t* m = mask->pixel(x, y);
                if (m[3] == 0 || (m[0] == 0 && m[1] == 0 && m[2] == 0))
                    continue;
            }
            const uint8_t* a = frame.pixel(x, y);
            const uint8_t* b = ref.pixel(x, y);
            int d = 0;
            for (int c = 0; c < 3; ++c)
                d = std::max(d, std::abs(int(a[c]) - int(b[c])));
            worst = std::max(worst, d);
            if (d > options.tolerance) {
                ++bad;
                uint8_t* p = diff.pixel(x, y);
                p[0] = 255, p[1] = 0, p[2] = 0, p[3] = 255;
            }
        }
    if (bad)
        if (Status s = write_png(diff_path, diff); !s)
            throw BadInput{"cannot write the diff image: " + s.error().message};
    return bad;
}

void check_frames(const Trace& trace, const CheckOptions& options, CheckReport& report)
{
    const std::string diff_dir = options.diff_dir.empty() ? options.dir : options.diff_dir;
    std::optional<Image> mask;
    if (!options.mask.empty())
        mask = load(options.mask, "--mask");
    for (const Expectation& e : options.expect) {
        std::string output = e.output;
        if (output.empty()) {
            if (trace.outputs.empty())
                throw BadInput{"the trace lists no output"};
            output = trace.outputs.front();
        }
        std::vector<const Frame*> frames;
        for (const Frame& f : trace.frames)
            if (f.output == output)
                frames.push_back(&f);
        std::vector<size_t> candidates;
        if (e.which == "last") {
            if (!frames.empty())
                candidates.push_back(frames.size() - 1);
        } else if (e.which == "first") {
            for (size_t i = 0; i < frames.size() && candidates.empty(); ++i)
                if (frames[i]->shows_clients)
                    candidates.push_back(i);
        } else if (e.which == "any") {
            for (size_t i = 0; i < frames.size(); ++i)
                if (!frames[i]->file.empty())
                    candidates.push_back(i);
        } else {
            uint64_t seq = std::stoull(e.which);
            for (size_t i = 0; i < frames.size(); ++i)
                if (frames[i]->sequence == seq)
                    candidates.push_back(i);
        }
        std::string what = "frame " + e.which + " of output " + output;
        if (candidates.empty()) {
            report.findings.push_back({"frame-missing", what + ": no such frame was presented"});
            continue;
        }
        Image ref = load(e.reference, "reference");
        if (mask && (mask->width != ref.width || mask->height != ref.height))
            throw BadInput{"--mask " + options.mask + " is " + std::to_string(mask->width) + "x" +
                           std::to_string(mask->height) + ", the reference " + e.reference + " is " +
                           std::to_string(ref.width) + "x" + std::to_string(ref.height)};
        bool matched = false;
        std::string first_failure;
        for (size_t index : candidates) {
            std::string file = file_of(frames, index);
            if (file.empty())
                throw BadInput{what + ": the trace names no PNG for it (recorded without frames?)"};
            Image frame = load(options.dir + "/" + file, "recorded frame");
            if (frame.width != ref.width || frame.height != ref.height)
                throw BadInput{"reference " + e.reference + " is " + std::to_string(ref.width) + "x" +
                               std::to_string(ref.height) + ", but " + file + " is " + std::to_string(frame.width) +
                               "x" + std::to_string(frame.height)};
            if (options.region) {
                const Region& r = *options.region;
                if (r.x < 0 || r.y < 0 || r.width <= 0 || r.height <= 0 || r.x + r.width > frame.width ||
                    r.y + r.height > frame.height)
                    throw BadInput{"--region lies outside the " + std::to_string(frame.width) + "x" +
                                   std::to_string(frame.height) + " frame"};
            }
            ++report.comparisons;
            std::string stem = file.substr(0, file.rfind('.'));
            std::string diff_path = diff_dir + "/diff-" + stem + ".png";
            int worst = 0;
            size_t bad = compare(frame, ref, mask ? &*mask : nullptr, options, diff_path, worst);
            if (bad == 0) {
                matched = true;
                break;
            }
            if (first_failure.empty())
                first_failure = what + " (" + file + ") differs from " + e.reference + " in " + std::to_string(bad) +
                                " pixels (largest channel difference " + std::to_string(worst) + ", tolerance " +
                                std::to_string(options.tolerance) + "); diff: " + diff_path;
        }
        if (!matched)
            report.findings.push_back({"frame-mismatch", e.which == "any" ? what + ": no recorded frame matches " +
                                                                                 e.reference + "; first: " + first_failure
                                                                           : first_failure});
    }
}

} // namespace

std::optional<Region> parse_region(const std::string& text)
{
    Region r;
    char tail = 0;
    if (std::sscanf(text.c_str(), "%d,%d,%dx%d%c", &r.x, &r.y, &r.width, &r.height, &tail) != 4)
        return std::nullopt;
    if (r.x < 0 || r.y < 0 || r.width <= 0 || r.height <= 0)
        return std::nullopt;
    return r;
}

CheckReport check_recording(const CheckOptions& options)
{
    CheckReport report;
    try {
        Trace trace = read_trace(options.dir);
        report.commits = trace.commits.size();
        report.frames = trace.frames.size();
        report.clients = trace.client_names.size();
        report.end_reason = trace.end_reason;
        for (const Frame& f : trace.frames)
            report.frame_files += !f.file.empty();
        if (options.invariants)
            check_invariants(trace, report);
        check_frames(trace, options, report);
    } catch (const BadInput& bad) {
        report.bad_input = bad.message;
    } catch (const std::exception& e) {
        // nlohmann's type errors: a field of the wrong type somewhere in an otherwise valid line.
        report.bad_input = options.dir + "/trace.jsonl: malformed record: " + e.what();
    }
    return report;
}

} // namespace syncway::record

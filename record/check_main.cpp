// syncway-check DIR: verify a recording made by syncway's record option (docs/recording.md).
// Exit status: 0 pass, 1 an invariant broken or a frame unlike its reference, 2 bad input.
#include <record/check.hpp>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

namespace {

using namespace syncway::record;

const char* kUsage =
    "Usage: syncway-check [OPTIONS] DIR\n"
    "\n"
    "Checks a recording that syncway made into DIR (its record option): the trace's\n"
    "invariants (no frame presented before its acquire point signaled, every release point\n"
    "signaled and none before the last frame that showed its buffer, no buffer written\n"
    "between its acquire and release points, no commit lost, nothing presented of a client\n"
    "after it died), and recorded frames against reference PNGs.\n"
    "\n"
    "Options:\n"
    "  --expect [OUTPUT:]WHICH=FILE\n"
    "                       the recorded frame WHICH of OUTPUT (default: the first output) must\n"
    "                       match the PNG FILE; WHICH is first (the first frame showing a\n"
    "                       client's surface), last, any (at least one frame), or a presentation\n"
    "                       sequence number. Repeatable\n"
    "  --tolerance N        largest difference allowed in any colour channel (0-255, default 0)\n"
    "  --region X,Y,WxH     compare only this rectangle\n"
    "  --mask FILE          PNG of the reference's size: black or transparent pixels are ignored\n"
    "  --diff-dir DIR       where diff images go on a mismatch (default: the recording)\n"
    "  --frames-only        skip the trace's invariants\n"
    "  --json               print the result as one JSON object\n"
    "  -h, --help           show this help and exit\n"
    "\n"
    "Exit status: 0 pass, 1 an invariant broken or a frame mismatch, 2 bad input (missing or\n"
    "truncated trace, unreadable or wrong-size PNG, bad option).\n";

int usage_error(const std::string& message)
{
    std::fprintf(stderr, "syncway-check: %s (see --help)\n", message.c_str());
    return 2;
}

bool valid_which(const std::string& which)
{
    if (which == "first" || which == "last" || which == "any")
        return true;
    return !which.empty() && which.size() < 10 && which.find_first_not_of("0123456789") == std::string::npos;
}

} // namespace

int main(int argc, char** argv)
{
    CheckOptions options;
    bool as_json = false;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        auto value = [&](const char* name) -> std::optional<std::string> {
            std::string prefix = std::string(name) + "=";
            if (arg.rfind(prefix, 0) == 0)
                return arg.substr(prefix.size());
            if (arg == name && i + 1 < argc)
                return std::string(argv[++i]);
            return std::nullopt;
        };
        auto takes = [&](const char* name) { return arg == name || arg.rfind(std::string(name) + "=", 0) == 0; };
        if (arg == "-h" || arg == "--help") {
            std::fputs(kUsage, stdout);
            return 0;
        } else if (arg == "--json") {
            as_json = true;
        } else if (arg == "--frames-only") {
            options.invariants = false;
        } else if (takes("--expect")) {
            auto v = value("--expect");
            if (!v)
                return usage_error("--expect needs [OUTPUT:]WHICH=FILE");
            auto eq = v->find('=');
            if (eq == std::string::npos || eq + 1 == v->size())
                return usage_error("invalid --expect '" + *v + "': expected [OUTPUT:]WHICH=FILE");
            Expectation e;
            std::string sel = v->substr(0, eq);
            e.reference = v->substr(eq + 1);
            if (auto colon = sel.rfind(':'); colon != std::string::npos) {
                e.output = sel.substr(0, colon);
                sel = sel.substr(colon + 1);
            }
            if (!valid_which(sel))
                return usage_error("invalid --expect '" + *v + "': WHICH must be first, last, any or a sequence number");
            e.which = sel;
            options.expect.push_back(std::move(e));
        } else if (takes("--tolerance")) {
            auto v = value("--tolerance");
            char* end = nullptr;
            long n = v ? std::strtol(v->c_str(), &end, 10) : -1;
            if (!v || v->empty() || *end || n < 0 || n > 255)
                return usage_error("invalid --tolerance: expected 0..255");
            options.tolerance = int(n);
        } else if (takes("--region")) {
            auto v = value("--region");
            auto r = v ? parse_region(*v) : std::nullopt;
            if (!r)
                return usage_error("invalid --region '" + v.value_or("") + "': expected X,Y,WxH, e.g. 0,0,100x50");
            options.region = r;
        } else if (takes("--mask")) {
            auto v = value("--mask");
            if (!v || v->empty())
                return usage_error("--mask needs a PNG file");
            options.mask = *v;
        } else if (takes("--diff-dir")) {
            auto v = value("--diff-dir");
            if (!v || v->empty())
                return usage_error("--diff-dir needs a directory");
            options.diff_dir = *v;
        } else if (!arg.empty() && arg[0] == '-') {
            return usage_error("unknown option '" + arg + "'");
        } else if (options.dir.empty()) {
            options.dir = arg;
        } else {
            return usage_error("more than one recording directory given ('" + options.dir + "', '" + arg + "')");
        }
    }
    if (options.dir.empty())
        return usage_error("no recording directory given");

    CheckReport report = check_recording(options);
    int status = report.status();
    if (as_json) {
        nlohmann::json out;
        out["status"] = status;
        out["result"] = status == 0 ? "pass" : status == 1 ? "fail" : "bad-input";
        if (report.bad_input)
            out["error"] = *report.bad_input;
        out["commits"] = report.commits;
        out["frames"] = report.frames;
        out["frame_files"] = report.frame_files;
        out["clients"] = report.clients;
        out["comparisons"] = report.comparisons;
        out["end_reason"] = report.end_reason;
        out["findings"] = nlohmann::json::array();
        for (const Finding& f : report.findings)
            out["findings"].push_back({{"check", f.check}, {"message", f.message}});
        std::puts(out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
        return status;
    }
    if (report.bad_input) {
        std::fprintf(stderr, "syncway-check: bad input: %s\n", report.bad_input->c_str());
        return status;
    }
    for (const Finding& f : report.findings)
        std::printf("FAIL %s: %s\n", f.check.c_str(), f.message.c_str());
    std::printf("%s: %zu commits from %zu clients, %zu frames (%zu changed), %zu comparisons; run ended by %s: %s\n",
                options.dir.c_str(), report.commits, report.clients, report.frames, report.frame_files,
                report.comparisons, report.end_reason.c_str(),
                status == 0 ? "PASS" : ("FAIL (" + std::to_string(report.findings.size()) + " findings)").c_str());
    return status;
}

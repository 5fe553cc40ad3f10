#include "recorded_frame.hpp"

#include <nlohmann/json.hpp>

#include <fstream>

namespace syncway::test {

std::optional<Image> recorded_frame(const std::string& dir, const std::string& output, uint64_t presented_ns,
                                    std::string* error)
{
    auto fail = [&](std::string why) -> std::optional<Image> {
        if (error)
            *error = std::move(why);
        return std::nullopt;
    };
    std::ifstream in(dir + "/trace.jsonl");
    if (!in)
        return fail(dir + "/trace.jsonl: cannot open");
    // The recorder writes a frame's record (and PNG) when the output presents it, before the
    // clients hear of it: a `presented` event always finds its frame here.
    std::string line, file;
    size_t frames = 0;
    while (std::getline(in, line)) {
        auto record = nlohmann::json::parse(line, nullptr, false);
        if (!record.is_object() || record.value("type", "") != "frame" || record.value("output", "") != output)
            continue;
        ++frames;
        if (record.contains("file") && record["file"].is_string())
            file = record["file"].get<std::string>();
        if (record.value("t", uint64_t(0)) != presented_ns)
            continue;
        if (file.empty())
            return fail("frame " + std::to_string(record.value("sequence", 0)) + " of " + output +
                        " has no PNG (recorded without frames?)");
        return Image::load_png(dir + "/" + file, error);
    }
    return fail("no frame of " + output + " presented at " + std::to_string(presented_ns) + " ns among the " +
                std::to_string(frames) + " in " + dir + "/trace.jsonl");
}

} // namespace syncway::test

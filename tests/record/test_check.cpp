// syncway-check on synthetic recordings: a valid one passes, each broken invariant, frame
// mismatch and kind of bad input is reported with its own check name or status 2.
#include <record/check.hpp>
#include <record/png_image.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

namespace {

using namespace syncway::record;
namespace fs = std::filesystem;

// A temporary recording directory, removed at the end of the test.
class Recording : public ::testing::Test {
protected:
    void SetUp() override
    {
        char tmpl[] = "/tmp/syncway-check-test-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        options_.dir = dir_;
    }
    void TearDown() override { fs::remove_all(dir_); }

    static Image solid(int w, int h, uint8_t r, uint8_t g, uint8_t b)
    {
        Image image{w, h, {}};
        image.rgba.resize(size_t(w) * h * 4);
        for (size_t i = 0; i < image.rgba.size(); i += 4) {
            image.rgba[i] = r, image.rgba[i + 1] = g, image.rgba[i + 2] = b, image.rgba[i + 3] = 255;
        }
        return image;
    }
    void png(const std::string& name, const Image& image) { ASSERT_TRUE(write_png(dir_ + "/" + name, image)); }

    // One client, one surface: commit 1 (buffer, acquire 1 signaled at 100, applied 110,
    // presented 120 in frame 2, release signaled at 300), commit 2 (applied 200, presented 210
    // in frame 3, released 400); frames 1 (empty), 2 and 3 with PNGs.
    std::map<std::string, std::string> commit1_ = {
        {"t_acquire_signaled", "100"}, {"t_applied", "110"}, {"presented_t", "120"}, {"t_last_presented", "150"},
        {"t_release_signaled", "300"}, {"hash_released", "\"00000000000000aa\""}, {"seq", "2"}};
    std::string client_gone_ = "1000";
    std::string extra_;  // more records, before the end record
    bool with_end_ = true;

    void write_trace()
    {
        auto& c = commit1_;
        std::ofstream out(dir_ + "/trace.jsonl");
        out << R"({"type":"header","version":1,"clock":"CLOCK_MONOTONIC","unit":"ns","t":1})" "\n"
            << R"({"type":"output","name":"HEADLESS-1","width":4,"height":4,"t":2})" "\n"
            << R"({"type":"client","client":1,"pid":42,"cmdline":["app"],"t":3})" "\n"
            << R"({"type":"frame","output":"HEADLESS-1","sequence":1,"t":5,"file":"HEADLESS-1-000001.png","surfaces":[]})" "\n"
            << R"({"type":"frame","output":"HEADLESS-1","sequence":2,"t":120,"file":"HEADLESS-1-000002.png","surfaces":[{"client":1,"surface":1,"seq":2}]})" "\n"
            << R"({"type":"frame","output":"HEADLESS-1","sequence":3,"t":210,"file":"HEADLESS-1-000003.png","surfaces":[{"client":1,"surface":1,"seq":3}]})" "\n"
            << R"({"type":"commit","client":1,"surface":1,"seq":1,"role":"xdg_toplevel","buffer":"unchanged","acquire":null,"release":null,"t_commit":10,"t_applied":11,"presented":null,"surface_gone":false})" "\n"
            << R"({"type":"commit","client":1,"surface":1,"seq":)" << c["seq"]
            << R"(,"buffer":{"kind":"shm","width":4,"height":4,"format":"XR24"},"acquire":{"timeline":1,"point":1},"release":{"timeline":2,"point":1},"t_commit":90,"t_acquire_signaled":)"
            << c["t_acquire_signaled"] << R"(,"t_applied":)" << c["t_applied"]
            << R"(,"presented":{"output":"HEADLESS-1","sequence":2,"t":)" << c["presented_t"]
            << R"(},"t_last_presented":)" << c["t_last_presented"] << R"(,"t_release_signaled":)"
            << c["t_release_signaled"] << R"(,"hash_applied":"00000000000000aa","hash_released":)"
            << c["hash_released"] << R"(,"surface_gone":false})" "\n"
            << R"({"type":"commit","client":1,"surface":1,"seq":3,"buffer":{"kind":"shm","width":4,"height":4,"format":"XR24"},"acquire":{"timeline":1,"point":2},"release":{"timeline":2,"point":2},"t_commit":190,"t_acquire_signaled":195,"t_applied":200,"presented":{"output":"HEADLESS-1","sequence":3,"t":210},"t_last_presented":210,"t_release_signaled":400,"surface_gone":true})" "\n"
            << R"({"type":"client_gone","client":1,"t":)" << client_gone_ << "}\n";
        out << extra_;
        if (with_end_)
            out << R"({"type":"end","reason":"command","status":0,"t":2000})" "\n";
        png("HEADLESS-1-000001.png", solid(4, 4, 0, 0, 0));
        png("HEADLESS-1-000002.png", solid(4, 4, 200, 0, 0));
        png("HEADLESS-1-000003.png", solid(4, 4, 0, 200, 0));
    }

    CheckReport run()
    {
        write_trace();
        return check_recording(options_);
    }
    static std::string checks(const CheckReport& r)
    {
        std::string s;
        for (auto& f : r.findings)
            s += f.check + ": " + f.message + "\n";
        return s + (r.bad_input ? "bad input: " + *r.bad_input : "");
    }

    std::string dir_;
    CheckOptions options_;
};

TEST_F(Recording, ValidRecordingPasses)
{
    CheckReport r = run();
    EXPECT_EQ(r.status(), 0) << checks(r);
    EXPECT_EQ(r.commits, 3u);
    EXPECT_EQ(r.frames, 3u);
}

TEST_F(Recording, PresentedBeforeAcquireSignaled)
{
    commit1_["t_acquire_signaled"] = "130";
    CheckReport r = run();
    ASSERT_EQ(r.status(), 1);
    EXPECT_EQ(r.findings.at(0).check, "acquire-before-present") << checks(r);
}

TEST_F(Recording, PresentedWhileAcquireNeverSignaled)
{
    commit1_["t_acquire_signaled"] = "null";
    CheckReport r = run();
    ASSERT_EQ(r.status(), 1);
    EXPECT_EQ(r.findings.at(0).check, "acquire-before-present") << checks(r);
}

TEST_F(Recording, ReleaseNeverSignaled)
{
    commit1_["t_release_signaled"] = "null";
    CheckReport r = run();
    ASSERT_EQ(r.status(), 1);
    EXPECT_EQ(r.findings.at(0).check, "release-signaled") << checks(r);
}

TEST_F(Recording, ReleaseBeforeLastPresent)
{
    commit1_["t_release_signaled"] = "140";
    CheckReport r = run();
    ASSERT_EQ(r.status(), 1);
    EXPECT_EQ(r.findings.at(0).check, "release-after-last-present") << checks(r);
}

TEST_F(Recording, BufferWrittenBeforeRelease)
{
    commit1_["hash_released"] = "\"00000000000000bb\"";
    CheckReport r = run();
    ASSERT_EQ(r.status(), 1);
    EXPECT_EQ(r.findings.at(0).check, "buffer-written-before-release") << checks(r);
}

TEST_F(Recording, CommitMissingFromTrace)
{
    commit1_["seq"] = "5";  // commits 2..4 missing between seq 1 and 5 (and 3 comes before 5)
    CheckReport r = run();
    ASSERT_EQ(r.status(), 1);
    EXPECT_NE(checks(r).find("commit-lost"), std::string::npos) << checks(r);
}

TEST_F(Recording, CommitNeverApplied)
{
    commit1_["t_applied"] = "null";
    CheckReport r = run();
    ASSERT_EQ(r.status(), 1);
    EXPECT_EQ(r.findings.at(0).check, "commit-lost") << checks(r);
}

TEST_F(Recording, PresentedAfterClientDied)
{
    client_gone_ = "205";
    CheckReport r = run();
    ASSERT_EQ(r.status(), 1);
    EXPECT_EQ(r.findings.at(0).check, "presented-after-client-died") << checks(r);
}

TEST_F(Recording, OutputOffWhileNothingPresentedPasses)
{
    // Off between frames 2 (120) and 3 (210), and on again before frame 3.
    extra_ = R"({"type":"output_off","name":"HEADLESS-1","t":130})" "\n"
             R"({"type":"output","name":"HEADLESS-1","width":4,"height":4,"t":205})" "\n";
    CheckReport r = run();
    EXPECT_EQ(r.status(), 0) << checks(r);
}

TEST_F(Recording, PresentedOnOutputTurnedOff)
{
    extra_ = R"({"type":"output_off","name":"HEADLESS-1","t":130})" "\n"
             R"({"type":"output","name":"HEADLESS-1","width":4,"height":4,"t":215})" "\n";
    CheckReport r = run();
    ASSERT_EQ(r.status(), 1);
    EXPECT_EQ(r.findings.at(0).check, "presented-on-disabled-output") << checks(r);
    EXPECT_NE(r.findings.at(0).message.find("HEADLESS-1 3"), std::string::npos) << checks(r);
}

TEST_F(Recording, PresentedOnOutputNeverOnAgain)
{
    extra_ = R"({"type":"output_off","name":"HEADLESS-1","t":100})" "\n";
    CheckReport r = run();
    ASSERT_EQ(r.status(), 1);
    EXPECT_EQ(r.findings.size(), 2u) << checks(r);  // frames 2 and 3
    EXPECT_EQ(r.findings.at(0).check, "presented-on-disabled-output") << checks(r);
}

TEST_F(Recording, FrameMatchesReference)
{
    png("ref.png", solid(4, 4, 200, 0, 0));
    options_.expect.push_back({"", "first", dir_ + "/ref.png"});
    options_.expect.push_back({"HEADLESS-1", "2", dir_ + "/ref.png"});
    options_.expect.push_back({"", "any", dir_ + "/ref.png"});
    CheckReport r = run();
    EXPECT_EQ(r.status(), 0) << checks(r);
    EXPECT_EQ(r.comparisons, 4u);  // "any" tried frame 1 before it matched frame 2
}

TEST_F(Recording, FrameMismatchWritesDiff)
{
    png("ref.png", solid(4, 4, 190, 0, 0));
    options_.expect.push_back({"", "last", dir_ + "/ref.png"});
    CheckReport r = run();
    ASSERT_EQ(r.status(), 1);
    EXPECT_EQ(r.findings.at(0).check, "frame-mismatch") << checks(r);
    auto diff = read_png(dir_ + "/diff-HEADLESS-1-000003.png");
    ASSERT_TRUE(diff);
    EXPECT_EQ(diff.value().pixel(0, 0)[0], 255);  // mismatches are red
}

TEST_F(Recording, ToleranceRegionAndMask)
{
    Image ref = solid(4, 4, 195, 0, 0);
    ref.pixel(3, 3)[1] = 255;  // one pixel far off
    png("ref.png", ref);
    options_.expect.push_back({"", "first", dir_ + "/ref.png"});
    options_.tolerance = 5;
    EXPECT_EQ(run().status(), 1);  // the far pixel still differs
    options_.region = Region{0, 0, 3, 3};
    EXPECT_EQ(run().status(), 0);  // outside the region
    options_.region.reset();
    Image mask = solid(4, 4, 255, 255, 255);
    mask.pixel(3, 3)[0] = mask.pixel(3, 3)[1] = mask.pixel(3, 3)[2] = 0;
    png("mask.png", mask);
    options_.mask = dir_ + "/mask.png";
    EXPECT_EQ(run().status(), 0);  // masked out
    options_.tolerance = 4;
    EXPECT_EQ(run().status(), 1);  // 200 vs 195 is over 4
}

TEST_F(Recording, MissingTraceIsBadInput)
{
    CheckReport r = check_recording(options_);
    ASSERT_EQ(r.status(), 2);
    EXPECT_NE(r.bad_input->find("trace.jsonl"), std::string::npos);
}

TEST_F(Recording, TruncatedTraceIsBadInput)
{
    with_end_ = false;
    CheckReport r = run();
    ASSERT_EQ(r.status(), 2);
    EXPECT_NE(r.bad_input->find("truncated"), std::string::npos) << *r.bad_input;
    // Cut in the middle of a line.
    std::ofstream(dir_ + "/trace.jsonl", std::ios::app) << R"({"type":"commit","client":1,"surf)";
    r = check_recording(options_);
    ASSERT_EQ(r.status(), 2);
}

TEST_F(Recording, WrongFieldTypeIsBadInput)
{
    commit1_["t_applied"] = "\"soon\"";
    CheckReport r = run();
    ASSERT_EQ(r.status(), 2) << checks(r);
    EXPECT_NE(r.bad_input->find("t_applied"), std::string::npos) << *r.bad_input;
}

TEST_F(Recording, WrongVersionIsBadInput)
{
    write_trace();
    std::ofstream(dir_ + "/trace.jsonl") << R"({"type":"header","version":99})" "\n";
    CheckReport r = check_recording(options_);
    ASSERT_EQ(r.status(), 2);
    EXPECT_NE(r.bad_input->find("version"), std::string::npos);
}

TEST_F(Recording, ReferenceOfWrongSizeIsBadInput)
{
    png("ref.png", solid(5, 4, 200, 0, 0));
    options_.expect.push_back({"", "first", dir_ + "/ref.png"});
    CheckReport r = run();
    ASSERT_EQ(r.status(), 2);
    EXPECT_NE(r.bad_input->find("5x4"), std::string::npos) << *r.bad_input;
}

TEST_F(Recording, ReferenceNotAPngIsBadInput)
{
    std::ofstream(dir_ + "/ref.png") << "GIF89a, not a png";
    options_.expect.push_back({"", "first", dir_ + "/ref.png"});
    CheckReport r = run();
    ASSERT_EQ(r.status(), 2);
    EXPECT_NE(r.bad_input->find("not a PNG"), std::string::npos) << *r.bad_input;
}

TEST_F(Recording, TruncatedPngIsBadInput)
{
    write_trace();
    auto size = fs::file_size(dir_ + "/HEADLESS-1-000002.png");
    fs::resize_file(dir_ + "/HEADLESS-1-000002.png", size / 2);
    png("ref.png", solid(4, 4, 200, 0, 0));
    options_.expect.push_back({"", "first", dir_ + "/ref.png"});
    CheckReport r = check_recording(options_);
    ASSERT_EQ(r.status(), 2);
    EXPECT_NE(r.bad_input->find("HEADLESS-1-000002.png"), std::string::npos) << *r.bad_input;
}

TEST_F(Recording, MissingFrameIsAFinding)
{
    png("ref.png", solid(4, 4, 200, 0, 0));
    options_.expect.push_back({"", "7", dir_ + "/ref.png"});
    CheckReport r = run();
    ASSERT_EQ(r.status(), 1);
    EXPECT_EQ(r.findings.at(0).check, "frame-missing");
}

} // namespace

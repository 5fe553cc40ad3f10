// Helpers for the heaps suite: fd counting (leak checks), fixture directories, device presence.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <linux/dma-buf.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace syncway::heaps::test {

inline int open_fd_count()
{
    int n = 0;
    if (DIR* d = ::opendir("/proc/self/fd")) {
        while (dirent* e = ::readdir(d))
            n += e->d_name[0] != '.';
        ::closedir(d);
    }
    return n - 1; // the DIR's own fd
}

inline bool is_char_device(const char* path)
{
    struct stat st {};
    return ::stat(path, &st) == 0 && S_ISCHR(st.st_mode);
}

// The first real heap (a character device) in /dev/dma_heap, or empty.
inline std::string first_real_heap()
{
    std::string found;
    if (DIR* d = ::opendir("/dev/dma_heap")) {
        while (dirent* e = ::readdir(d)) {
            std::string path = std::string("/dev/dma_heap/") + e->d_name;
            if (e->d_name[0] != '.' && is_char_device(path.c_str()) && (found.empty() || std::string(e->d_name) == "system"))
                found = e->d_name;
        }
        ::closedir(d);
    }
    return found;
}

// A temporary directory of plain files standing in for /dev/dma_heap; removed with its files.
class FixtureDir {
public:
    FixtureDir()
    {
        char tmpl[] = "/tmp/syncway-heaps-test-XXXXXX";
        if (::mkdtemp(tmpl))
            path_ = tmpl;
    }
    ~FixtureDir()
    {
        for (const std::string& f : files_)
            ::unlink(f.c_str());
        if (!path_.empty())
            ::rmdir(path_.c_str());
    }
    FixtureDir(const FixtureDir&) = delete;
    FixtureDir& operator=(const FixtureDir&) = delete;

    const std::string& path() const { return path_; }
    std::string add(const std::string& name, mode_t mode = 0600)
    {
        std::string file = path_ + "/" + name;
        int fd = ::open(file.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, mode);
        if (fd >= 0)
            ::close(fd);
        ::chmod(file.c_str(), mode);
        files_.push_back(file);
        return file;
    }

private:
    std::string path_;
    std::vector<std::string> files_;
};

// Adds `fence` (a sync_file) to the dma-buf's implicit fences as a writer; false when the
// kernel refuses (errno says why; ENOTTY before Linux 6.0).
inline bool attach_write_fence(int dmabuf, int fence)
{
    dma_buf_import_sync_file import{};
    import.flags = DMA_BUF_SYNC_WRITE;
    import.fd = fence;
    return ::ioctl(dmabuf, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &import) == 0;
}

} // namespace syncway::heaps::test

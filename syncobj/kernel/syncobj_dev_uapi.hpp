// The /dev/syncobj uapi as proposed in the RFC series "misc/syncobj: add /dev/syncobj device"
// (v1, May 2026, include/uapi/linux/syncobj.h): a misc device whose ioctls (base 0xCD) take
// syncobj fds instead of DRM handles. No kernel release and no installed header has it yet,
// so the layout is written down here; where a system header exists it is used instead and
// checked against ours. If a later revision of the RFC changes the layout, the probe in
// SyncobjDevDevice::open refuses the device (it must create a working timeline first).
#pragma once

#include <linux/ioctl.h>
#include <linux/types.h>

#include <cstdint>

#if __has_include(<linux/syncobj.h>)
#include <linux/syncobj.h>
#define SYNCWAY_HAVE_LINUX_SYNCOBJ_H 1
#endif

namespace syncway::syncobj::uapi {

// Flag values equal the DRM ones (and syncobj.h's SYNCOBJ_* flags).
constexpr uint32_t kCreateSignaled = 1u << 0;
constexpr uint32_t kWaitAll = 1u << 0;
constexpr uint32_t kWaitForSubmit = 1u << 1;
constexpr uint32_t kWaitAvailable = 1u << 2;
constexpr uint32_t kWaitDeadline = 1u << 3;
constexpr uint32_t kQueryLastSubmitted = 1u << 0;

struct CreateArgs {
    int32_t fd;      // out
    uint32_t flags;  // kCreateSignaled
};

struct WaitArgs {
    uint64_t fds;            // user pointer to int32_t[count]
    uint64_t points;         // user pointer to uint64_t[count]
    int64_t timeout_nsec;    // absolute CLOCK_MONOTONIC
    uint32_t count;
    uint32_t flags;
    uint32_t first_signaled; // out
    uint32_t pad;            // must be 0
    uint64_t deadline_nsec;  // with kWaitDeadline
};

// RESET (points must be 0, flags 0), SIGNAL (points may be 0: binary), QUERY (points out).
struct ArrayArgs {
    uint64_t fds;
    uint64_t points;
    uint32_t count;
    uint32_t flags;
};

struct TransferArgs {
    int32_t src_fd;
    int32_t dst_fd;
    uint64_t src_point;
    uint64_t dst_point;
    uint32_t flags; // kWaitForSubmit only
    uint32_t pad;
};

struct EventfdArgs {
    int32_t syncobj_fd;
    int32_t eventfd;
    uint64_t point;
    uint32_t flags; // kWaitAvailable only
    uint32_t pad;
};

struct SyncFileArgs {
    int32_t syncobj_fd;
    int32_t sync_file_fd; // out for EXPORT, in for IMPORT
    uint64_t point;
};

static_assert(sizeof(CreateArgs) == 8 && sizeof(WaitArgs) == 48 && sizeof(ArrayArgs) == 24 &&
              sizeof(TransferArgs) == 32 && sizeof(EventfdArgs) == 24 && sizeof(SyncFileArgs) == 16);

constexpr unsigned kIocBase = 0xCD;
constexpr unsigned long kIocCreate = _IOWR(kIocBase, 0, CreateArgs);
constexpr unsigned long kIocWait = _IOWR(kIocBase, 1, WaitArgs);
constexpr unsigned long kIocReset = _IOW(kIocBase, 2, ArrayArgs);
constexpr unsigned long kIocSignal = _IOW(kIocBase, 3, ArrayArgs);
constexpr unsigned long kIocQuery = _IOW(kIocBase, 4, ArrayArgs);
constexpr unsigned long kIocTransfer = _IOW(kIocBase, 5, TransferArgs);
constexpr unsigned long kIocEventfd = _IOW(kIocBase, 6, EventfdArgs);
constexpr unsigned long kIocExportSyncFile = _IOWR(kIocBase, 7, SyncFileArgs);
constexpr unsigned long kIocImportSyncFile = _IOW(kIocBase, 8, SyncFileArgs);

#ifdef SYNCWAY_HAVE_LINUX_SYNCOBJ_H
static_assert(kIocCreate == SYNCOBJ_IOC_CREATE && kIocWait == SYNCOBJ_IOC_WAIT &&
              kIocReset == SYNCOBJ_IOC_RESET && kIocSignal == SYNCOBJ_IOC_SIGNAL &&
              kIocQuery == SYNCOBJ_IOC_QUERY && kIocTransfer == SYNCOBJ_IOC_TRANSFER &&
              kIocEventfd == SYNCOBJ_IOC_EVENTFD && kIocExportSyncFile == SYNCOBJ_IOC_EXPORT_SYNC_FILE &&
              kIocImportSyncFile == SYNCOBJ_IOC_IMPORT_SYNC_FILE,
              "<linux/syncobj.h> differs from the RFC v1 layout this backend was written for");
#endif

} // namespace syncway::syncobj::uapi

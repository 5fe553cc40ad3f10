// The state of one timeline point: the one definition shared by the timeline core, the service's
// wire replies and the compositor-facing host API. Its values are those of the C API's
// enum syncobj_point_state (syncobj.h), which the wire carries, so the three cannot drift apart.
#pragma once

#include <syncobj/syncobj.h>

namespace syncway::syncobj {

enum class PointState {
    Unsubmitted = SYNCOBJ_POINT_UNSUBMITTED, // no fence at or after this point yet
    Pending = SYNCOBJ_POINT_PENDING,         // submitted (available), not signaled yet
    Signaled = SYNCOBJ_POINT_SIGNALED,       // signaled successfully
    Failed = SYNCOBJ_POINT_FAILED,           // resolved with an error (e.g. its signaler died)
};

struct PointStatus {
    PointState state = PointState::Unsubmitted;
    int error = 0; // errno value when state == Failed (EOWNERDEAD: the signaler went away)
};

} // namespace syncway::syncobj

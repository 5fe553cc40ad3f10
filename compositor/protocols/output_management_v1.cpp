#include "output_management_v1.hpp"

#include "../output.hpp"
#include "../server.hpp"

namespace syncway {

OutputManagementV1::OutputManagementV1(Server& server)
    : server_(server), manager_(wlr_output_manager_v1_create(server.display.get()))
{
    auto answer = [this](void* data, bool test_only) {
        auto* config = static_cast<wlr_output_configuration_v1*>(data);
        if (apply(config, test_only))
            wlr_output_configuration_v1_send_succeeded(config);
        else
            wlr_output_configuration_v1_send_failed(config);
        wlr_output_configuration_v1_destroy(config);  // ours once the event is emitted
        if (!test_only)
            publish();
    };
    apply_.connect(&manager_->events.apply, [answer](void* data) { answer(data, false); });
    test_.connect(&manager_->events.test, [answer](void* data) { answer(data, true); });
    outputs_changed_.connect(&server.outputs_changed, [this](void*) { publish(); });
    publish();
}

void OutputManagementV1::publish()
{
    wlr_output_configuration_v1* config = wlr_output_configuration_v1_create();
    if (!config)
        return;
    for (auto& output : server_.outputs) {
        wlr_output* wlr = output->wlr();
        wlr_output_configuration_head_v1* head = wlr_output_configuration_head_v1_create(config, wlr);
        if (!head)
            continue;
        if (wlr_output_layout_output* placed = wlr_output_layout_get(server_.output_layout.get(), wlr)) {
            head->state.x = placed->x;
            head->state.y = placed->y;
        }
    }
    wlr_output_manager_v1_set_configuration(manager_, config);  // takes it
}

namespace {

// Stages one head's state on its output (not committed).
void stage(const wlr_output_head_v1_state& state)
{
    wlr_output* output = state.output;
    wlr_output_enable(output, state.enabled);
    if (!state.enabled)
        return;
    if (state.mode)
        wlr_output_set_mode(output, state.mode);
    else
        wlr_output_set_custom_mode(output, state.custom_mode.width, state.custom_mode.height,
                                   state.custom_mode.refresh);
    wlr_output_set_scale(output, state.scale);
    wlr_output_set_transform(output, state.transform);
}

} // namespace

bool OutputManagementV1::apply(wlr_output_configuration_v1* config, bool test_only)
{
    wlr_output_configuration_head_v1* head;
    // Every output must accept its part before any is changed.
    wl_list_for_each(head, &config->heads, link)
    {
        stage(head->state);
        bool ok = wlr_output_test(head->state.output);
        wlr_output_rollback(head->state.output);
        if (!ok) {
            wlr_log(WLR_INFO, "output management: output %s refuses the configuration", head->state.output->name);
            return false;
        }
    }
    if (test_only)
        return true;
    bool all = true;
    wl_list_for_each(head, &config->heads, link)
    {
        stage(head->state);
        if (!wlr_output_commit(head->state.output)) {
            wlr_log(WLR_ERROR, "output management: output %s failed to commit the configuration", head->state.output->name);
            all = false;
            continue;
        }
        if (head->state.enabled)
            wlr_output_layout_add(server_.output_layout.get(), head->state.output, head->state.x, head->state.y);
        else
            wlr_output_layout_remove(server_.output_layout.get(), head->state.output);
    }
    return all;
}

} // namespace syncway

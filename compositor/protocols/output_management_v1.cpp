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
        // Everyone who follows the outputs (the recorder, the cursor, and publish() here)
        // learns of outputs turned on or off, moved or resized.
        if (!test_only)
            wl_signal_emit(&server_.outputs_changed, nullptr);
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
        // On is in the layout (Output::on): a headless output turned off is still enabled in
        // wlroots' eyes, see apply().
        if (wlr_output_layout_output* placed = wlr_output_layout_get(server_.output_layout.get(), wlr)) {
            head->state.x = placed->x;
            head->state.y = placed->y;
        } else {
            head->state.enabled = false;
        }
    }
    wlr_output_manager_v1_set_configuration(manager_, config);  // takes it
}

namespace {

// wlroots 0.15's headless backend cannot commit a change of an output's enabled state (it
// refuses the commit), so a headless output is turned off by taking it out of the layout only:
// its scene output goes, and with it every frame, presentation and frame callback on it. Its
// frame timer still runs, with nothing to render. Other backends disable the output as well.
bool backend_disables(wlr_output* output) { return !wlr_output_is_headless(output); }

// Stages one head's state on its output (not committed). Nothing to stage for an output that
// is only taken out of the layout.
void stage(const wlr_output_head_v1_state& state)
{
    wlr_output* output = state.output;
    if (!state.enabled) {
        if (backend_disables(output))
            wlr_output_enable(output, false);
        return;
    }
    wlr_output_enable(output, true);
    if (state.mode)
        wlr_output_set_mode(output, state.mode);
    else
        wlr_output_set_custom_mode(output, state.custom_mode.width, state.custom_mode.height,
                                   state.custom_mode.refresh);
    wlr_output_set_scale(output, state.scale);
    wlr_output_set_transform(output, state.transform);
}

} // namespace

const char* OutputManagementV1::refusal(wlr_output_configuration_v1* config) const
{
    // With no output on, nothing is presented and no client gets a frame callback again: a
    // headless run would hang until its --timeout, and only output management (a client that
    // may be gone) could ever turn an output back on.
    for (auto& output : server_.outputs) {
        bool on = output->on();
        wlr_output_configuration_head_v1* head;
        wl_list_for_each(head, &config->heads, link)
        {
            if (head->state.output == output->wlr())
                on = head->state.enabled;
        }
        if (on)
            return nullptr;
    }
    return "it turns every output off";
}

bool OutputManagementV1::apply(wlr_output_configuration_v1* config, bool test_only)
{
    if (const char* why = refusal(config)) {
        wlr_log(WLR_INFO, "output management: configuration refused: %s", why);
        return false;
    }
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
        wlr_output* output = head->state.output;
        if (!head->state.enabled) {
            // Out of the layout first: the scene output goes before the backend lets go.
            bool was_on = wlr_output_layout_get(server_.output_layout.get(), output) != nullptr;
            wlr_output_layout_remove(server_.output_layout.get(), output);
            if (backend_disables(output)) {
                stage(head->state);
                if (!wlr_output_commit(output)) {
                    wlr_log(WLR_ERROR, "output management: output %s failed to turn off (it shows nothing)", output->name);
                    all = false;
                }
            }
            if (was_on)
                wlr_log(WLR_INFO, "output %s: turned off", output->name);
            continue;
        }
        stage(head->state);
        if (!wlr_output_commit(output)) {
            wlr_log(WLR_ERROR, "output management: output %s failed to commit the configuration", output->name);
            all = false;
            continue;
        }
        if (!wlr_output_layout_get(server_.output_layout.get(), output))
            wlr_log(WLR_INFO, "output %s: turned on, %dx%d at %d,%d", output->name, output->width, output->height,
                    head->state.x, head->state.y);
        wlr_output_layout_add(server_.output_layout.get(), output, head->state.x, head->state.y);
    }
    return all;
}

} // namespace syncway

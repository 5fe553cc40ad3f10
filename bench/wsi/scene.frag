#version 450
// Several ms of lavapipe work per frame: a Julia set, animated by the frame number, a fixed
// number of iterations per pixel (no early exit, so every frame costs the same).
layout(push_constant) uniform Frame { float t; uint iterations; } frame;
layout(location = 0) out vec4 color;
void main()
{
    vec2 z = (gl_FragCoord.xy / vec2(1280.0, 720.0) - 0.5) * vec2(3.2, 1.8);
    vec2 c = vec2(-0.8 + 0.1 * sin(frame.t), 0.156);
    float escaped = 0.0;
    for (uint i = 0u; i < frame.iterations; ++i) {
        z = vec2(z.x * z.x - z.y * z.y, 2.0 * z.x * z.y) + c;
        escaped += step(4.0, dot(z, z)) * (1.0 - escaped);
        z = clamp(z, vec2(-4.0), vec2(4.0));
    }
    color = vec4(escaped, 0.3 + 0.5 * fract(dot(z, z)), 0.6, 1.0);
}

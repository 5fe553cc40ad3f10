# The guest CPU executes what llvmpipe's JIT relies on (AVX2 gathers, if offered; see README).
exec "$BUILD_ROOT/tests/vm/vm-kernel-probe" cpu-gather

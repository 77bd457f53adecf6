// A valid shared library that is not an lmforge plugin (no handshake symbols).
extern "C" __attribute__((visibility("default"))) int some_other_library_function() { return 42; }

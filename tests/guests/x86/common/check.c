int x86_guest_check(void) { return 0; }

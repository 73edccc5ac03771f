package store

import "time"

// t0 is the tests' fixed starting instant.
var t0 = time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)

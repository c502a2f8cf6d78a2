"""Training: a config (config), its allowed values (limits), optimizers and schedules (optim), the loop and the
training generator (loop, train), running a config to its end (fit), presets and devices."""

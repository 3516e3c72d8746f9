package natsconn

// isWindows: file modes say nothing of who may read a file there.
const isWindows = true

/// The writers of the pools whose writer the current task holds.
enum WriterHold {
    @TaskLocal static var pools: [ObjectIdentifier] = []
}

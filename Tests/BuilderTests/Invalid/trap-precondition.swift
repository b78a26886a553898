import ImageDSL

func node(_ number: Int) -> String {
    precondition(number < 100, "node numbers stop at 99")  // error: the definition crashed while running: node numbers stop at 99
    return "node\(number)"
}
let system = OperatingSystem { HostName(node(120)) }

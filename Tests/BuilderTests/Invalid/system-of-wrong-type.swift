import ImageDSL

let system = "bigmem2"  // error: `system` must be an OperatingSystem

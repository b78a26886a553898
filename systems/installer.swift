import ImageDSL

// imagec's network installer, which physical machines (bigmem2) boot from `imagec serve`.
let system = OperatingSystem(inheriting: Lab.installer) {}

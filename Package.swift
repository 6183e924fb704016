// swift-tools-version:6.0
import PackageDescription

// Layers (DESIGN.md): dependencies point downwards only.
//   losscape (CLI) → Lang → Plot, Sharpness → Train → NN → Data → Tensor → CBLAS, CSupport, CKernels
let package = Package(
    name: "Losscape",
    products: [
        .library(name: "Tensor", targets: ["Tensor"]),
        .library(name: "Data", targets: ["Data"]),
        .library(name: "NN", targets: ["NN"]),
        .library(name: "Train", targets: ["Train"]),
        .library(name: "Sharpness", targets: ["Sharpness"]),
        .library(name: "Lang", targets: ["Lang"]),
        .executable(name: "losscape", targets: ["losscape"]),
    ],
    targets: [
        // System libraries and our own small C target (signal flag: Swift 6 cannot touch C globals).
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CEditLine", path: "Sources/CEditLine", pkgConfig: "libedit",
                       providers: [.apt(["libedit-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        .target(name: "CSupport", path: "Sources/CSupport"),
        // Direct convolution kernels (AVX2/AVX-512 by function attributes, chosen at run time);
        // optimized in debug builds too, so the tests' convolutions stay fast.
        .target(name: "CKernels", path: "Sources/CKernels", cSettings: [.unsafeFlags(["-O3"])]),

        .target(name: "Tensor", dependencies: ["CBLAS", "CSupport", "CKernels"], path: "Sources/Tensor"),
        .target(name: "Data", dependencies: ["Tensor", "CZlib"], path: "Sources/Data"),
        .target(name: "NN", dependencies: ["Tensor", "Data"], path: "Sources/NN"),
        .target(name: "Train", dependencies: ["NN", "Data", "Tensor"], path: "Sources/Train"),
        .target(name: "Sharpness", dependencies: ["Tensor", "Data", "NN", "Train", "CBLAS"], path: "Sources/Sharpness"),
        .target(name: "Plot", path: "Sources/Plot"),
        // The interpreter's hot loop mutates class state constantly; dynamic exclusivity checks cost ~12 %.
        .target(name: "Lang", dependencies: ["Tensor", "Data", "NN", "Train", "Sharpness", "CSupport", "Plot"], path: "Sources/Lang",
                swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]),
        .executableTarget(name: "losscape", dependencies: ["Lang", "CEditLine", "CSupport", "CBLAS"],
                          path: "Sources/losscape"),

        .executableTarget(name: "losscape-bench", dependencies: ["Tensor", "Data", "NN", "Train", "Sharpness", "Lang"],
                          path: "Benchmarks/LosscapeBench"),

        .testTarget(name: "TensorTests", dependencies: ["Tensor"], path: "Tests/TensorTests"),
        .testTarget(name: "DataTests", dependencies: ["Data", "Tensor", "CZlib"], path: "Tests/DataTests"),
        .testTarget(name: "NNTests", dependencies: ["NN", "Data", "Tensor"], path: "Tests/NNTests"),
        .testTarget(name: "TrainTests", dependencies: ["Train", "NN", "Data", "Tensor"], path: "Tests/TrainTests"),
        .testTarget(name: "SharpnessTests", dependencies: ["Sharpness", "Tensor", "Data", "NN", "Train", "CBLAS"],
                    path: "Tests/SharpnessTests", exclude: ["Fixtures"]),
        .testTarget(name: "PlotTests", dependencies: ["Plot"], path: "Tests/PlotTests"),
        .testTarget(name: "LangTests", dependencies: ["Lang", "Tensor", "CSupport", "losscape"], path: "Tests/LangTests",
                    exclude: ["golden"]),
    ]
)

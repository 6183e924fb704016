// swift-tools-version:6.0
import PackageDescription

// Layers (DESIGN.md): dependencies point downwards only.
//   losscape (CLI) → Lang → Plot, Sharpness → Train → NN → Data → Tensor → CBLAS, CSupport
let package = Package(
    name: "Losscape",
    products: [
        .library(name: "Tensor", targets: ["Tensor"]),
        .library(name: "Data", targets: ["Data"]),
        .library(name: "NN", targets: ["NN"]),
        .library(name: "Train", targets: ["Train"]),
        .library(name: "Sharpness", targets: ["Sharpness"]),
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

        .target(name: "Tensor", dependencies: ["CBLAS", "CSupport"], path: "Sources/Tensor"),
        .target(name: "Data", dependencies: ["Tensor", "CZlib"], path: "Sources/Data"),
        .target(name: "NN", dependencies: ["Tensor", "Data"], path: "Sources/NN"),
        .target(name: "Train", dependencies: ["NN", "Data", "Tensor"], path: "Sources/Train"),
        .target(name: "Plot", path: "Sources/Plot"),
        .target(name: "Sharpness", dependencies: ["Tensor", "Data", "NN", "Train", "CBLAS"], path: "Sources/Sharpness"),

        .executableTarget(name: "losscape-bench", dependencies: ["Tensor", "Data", "NN", "Train", "Sharpness"],
                          path: "Benchmarks/LosscapeBench"),

        .testTarget(name: "TensorTests", dependencies: ["Tensor"], path: "Tests/TensorTests"),
        .testTarget(name: "DataTests", dependencies: ["Data", "Tensor", "CZlib"], path: "Tests/DataTests"),
        .testTarget(name: "NNTests", dependencies: ["NN", "Data", "Tensor"], path: "Tests/NNTests"),
        .testTarget(name: "TrainTests", dependencies: ["Train", "NN", "Data", "Tensor"], path: "Tests/TrainTests"),
        .testTarget(name: "SharpnessTests", dependencies: ["Sharpness", "Tensor", "Data", "NN", "Train", "CBLAS"],
                    path: "Tests/SharpnessTests", exclude: ["Fixtures"]),
        .testTarget(name: "PlotTests", dependencies: ["Plot"], path: "Tests/PlotTests"),
    ]
)

// swift-tools-version:6.0
// The README's tutorial app, shaped like Vapor's template: scripts/tutorial-app copies it to
// .build/tutorial-app/App, beside a `tenanted` link to this repository, and builds it there.
// Tests/TenantedVaporTests/TutorialAppTests.swift checks that every line of the README's tutorial
// blocks is in this package, in order, and runs the app through the tutorial's steps.
import PackageDescription

let package = Package(
    name: "App",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(url: "https://github.com/vapor/vapor.git", from: "4.122.3"),
        .package(url: "https://github.com/vapor/fluent.git", from: "4.13.0"),
        // Tenanted from a checkout beside your app's folder (identity: the folder's name, "tenanted"):
        .package(path: "../tenanted"),
        // or from Git (identity: the URL's last path component without ".git", "tenanted"):
        // .package(url: "https://github.com/your-org/tenanted.git", branch: "main"),
    ],
    targets: [
        .executableTarget(
            name: "App",
            dependencies: [
                .product(name: "Vapor", package: "vapor"),
                .product(name: "Fluent", package: "fluent"),
                .product(name: "TenantedVapor", package: "tenanted"),
            ]
        ),
    ]
)

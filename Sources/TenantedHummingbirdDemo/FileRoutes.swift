import Foundation
import Hummingbird
import Tenanted
import TenantedDemoSupport
import TenantedHummingbird

/// `PUT|GET|DELETE /files/:name` and `GET /files`: the tenant's files, streamed in and out, with
/// `tenanted-demo`'s statuses and bodies (a bad name is a 400 `invalid file name`, an absent file a
/// 404 `file not found`).
enum FileRoutes {
    static func add(to group: RouterGroup<NoteRoutes.Context>, files: TenantFiles) {
        group.put(":name") { request, context in
            let name = self.name(context)
            let size = try await context.tenantFiles(files).write(name, chunks: request.body.map { Array($0.readableBytesView) })
            return try NoteRoutes.json(DemoFileInfo(name: name, size: size), status: .created)
        }
        group.get(":name") { _, context in
            let reader = try context.tenantFiles(files).read(self.name(context), chunkSize: DemoServices.fileChunkSize)
            let body = ResponseBody(contentLength: reader.size) { writer in
                for try await chunk in reader { try await writer.write(ByteBuffer(bytes: chunk)) }
                try await writer.finish(nil)
            }
            return Response(status: .ok, headers: [.contentType: "application/octet-stream"], body: body)
        }
        group.get { _, context in
            try NoteRoutes.json(try await context.tenantFiles(files).list().map(\.rawValue))
        }
        group.delete(":name") { _, context in
            try await context.tenantFiles(files).delete(self.name(context))
            return Response(status: .noContent)
        }
    }

    /// The `:name` parameter, percent-decoded as `tenanted-demo`'s router decodes it (`..%2Fx` is
    /// `../x`, refused by the key allowlist like any other bad name).
    private static func name(_ context: NoteRoutes.Context) -> String {
        let raw = context.parameters.get("name") ?? ""
        return raw.removingPercentEncoding ?? raw
    }
}

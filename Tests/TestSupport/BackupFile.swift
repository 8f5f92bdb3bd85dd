package import Foundation

/// A copy of the Tenanted backup `data` whose header field `key` is `value` (header re-encoded,
/// payload kept byte for byte): a well-formed backup that lies about one fact.
package func backupRewriting(_ data: Data, _ key: String, to value: Any) throws -> Data {
    guard let first = data.firstIndex(of: UInt8(ascii: "\n")),
          let second = data[(first + 1)...].firstIndex(of: UInt8(ascii: "\n")),
          var header = try JSONSerialization.jsonObject(with: data[(first + 1)..<second]) as? [String: Any]
    else { throw CocoaError(.fileReadCorruptFile) }
    header[key] = value
    let encoded = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
    return data[...first] + encoded + data[second...]
}

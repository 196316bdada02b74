/// A small XML reader for the handful of S3 response elements (ListBucketResult, Error): elements, text and
/// the five entities plus numeric character references. No DTDs, namespaces are kept in the name, attributes
/// are skipped. FoundationXML would need libxml2 and ICU at run time.
struct XMLElement: Equatable {
    var name: String
    var children: [XMLElement] = []
    var text = ""

    /// The first child called `name`.
    func child(_ name: String) -> XMLElement? { children.first { $0.name == name } }

    /// Every child called `name`.
    func children(_ name: String) -> [XMLElement] { children.filter { $0.name == name } }

    /// The text of the first child called `name`.
    func value(_ name: String) -> String? { child(name)?.text }

    /// Parses a document; throws ``XMLReaderError`` for anything malformed.
    static func parse(_ bytes: [UInt8]) throws -> XMLElement {
        var reader = Reader(bytes: bytes)
        return try reader.document()
    }

    /// `text` with `& < > " '` escaped (for tests and for writing XML bodies).
    static func escape(_ text: String) -> String {
        var output = ""
        for character in text {
            switch character {
            case "&": output += "&amp;"
            case "<": output += "&lt;"
            case ">": output += "&gt;"
            case "\"": output += "&quot;"
            case "'": output += "&apos;"
            default: output.append(character)
            }
        }
        return output
    }

    private struct Reader {
        let bytes: [UInt8]
        var position = 0

        mutating func document() throws -> XMLElement {
            skipMisc()
            guard let root = try element() else { throw XMLReaderError.malformed("no root element") }
            return root
        }

        /// Skips whitespace, the XML declaration, comments and processing instructions.
        mutating func skipMisc() {
            while position < bytes.count {
                if isSpace(bytes[position]) {
                    position += 1
                } else if starts(with: "<?") {
                    skip(past: "?>")
                } else if starts(with: "<!--") {
                    skip(past: "-->")
                } else if starts(with: "<!") {
                    skip(past: ">")
                } else {
                    return
                }
            }
        }

        mutating func element() throws -> XMLElement? {
            guard position < bytes.count, bytes[position] == 0x3C else { return nil }
            position += 1
            let name = readName()
            guard !name.isEmpty else { throw XMLReaderError.malformed("empty element name at \(position)") }
            // Attributes are skipped (quotes may hold '>').
            var quote: UInt8?
            while position < bytes.count {
                let byte = bytes[position]
                if let open = quote {
                    if byte == open { quote = nil }
                } else if byte == 0x22 || byte == 0x27 {
                    quote = byte
                } else if byte == 0x3E {
                    break
                }
                position += 1
            }
            guard position < bytes.count else { throw XMLReaderError.malformed("unterminated <\(name)>") }
            let selfClosing = bytes[position - 1] == 0x2F
            position += 1
            var node = XMLElement(name: name)
            if selfClosing { return node }
            var text: [UInt8] = []
            while position < bytes.count {
                if starts(with: "</") {
                    position += 2
                    let closing = readName()
                    guard closing == name else { throw XMLReaderError.malformed("</\(closing)> closes <\(name)>") }
                    while position < bytes.count && bytes[position] != 0x3E { position += 1 }
                    guard position < bytes.count else { throw XMLReaderError.malformed("unterminated </\(name)>") }
                    position += 1
                    node.text = try Self.decodeEntities(text)
                    return node
                } else if starts(with: "<![CDATA[") {
                    position += 9
                    let start = position
                    skip(past: "]]>")
                    text += bytes[start..<max(start, position - 3)]
                } else if starts(with: "<!--") || starts(with: "<?") {
                    skipMisc()
                } else if bytes[position] == 0x3C {
                    guard let child = try element() else { throw XMLReaderError.malformed("bad child of <\(name)>") }
                    node.children.append(child)
                } else {
                    text.append(bytes[position])
                    position += 1
                }
            }
            throw XMLReaderError.malformed("<\(name)> is never closed")
        }

        mutating func readName() -> String {
            let start = position
            while position < bytes.count, !isSpace(bytes[position]), bytes[position] != 0x3E, bytes[position] != 0x2F {
                position += 1
            }
            return String(decoding: bytes[start..<position], as: UTF8.self)
        }

        func starts(with text: String) -> Bool {
            let pattern = Array(text.utf8)
            return position + pattern.count <= bytes.count && Array(bytes[position..<position + pattern.count]) == pattern
        }

        mutating func skip(past terminator: String) {
            while position < bytes.count && !starts(with: terminator) { position += 1 }
            position = min(position + terminator.utf8.count, bytes.count)
        }

        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }

        static func decodeEntities(_ raw: [UInt8]) throws -> String {
            guard raw.contains(0x26) else { return String(decoding: raw, as: UTF8.self) }
            var output: [UInt8] = []
            var index = 0
            while index < raw.count {
                guard raw[index] == 0x26 else {
                    output.append(raw[index])
                    index += 1
                    continue
                }
                guard let end = raw[index...].firstIndex(of: 0x3B), end - index <= 12 else {
                    throw XMLReaderError.malformed("unterminated entity")
                }
                let entity = String(decoding: raw[(index + 1)..<end], as: UTF8.self)
                switch entity {
                case "amp": output.append(0x26)
                case "lt": output.append(0x3C)
                case "gt": output.append(0x3E)
                case "quot": output.append(0x22)
                case "apos": output.append(0x27)
                default:
                    let number = entity.hasPrefix("#x") ? UInt32(entity.dropFirst(2), radix: 16)
                        : entity.hasPrefix("#") ? UInt32(entity.dropFirst(), radix: 10) : nil
                    guard let number, let scalar = Unicode.Scalar(number) else { throw XMLReaderError.malformed("unknown entity &\(entity);") }
                    output += Array(String(Character(scalar)).utf8)
                }
                index = end + 1
            }
            return String(decoding: output, as: UTF8.self)
        }
    }
}

enum XMLReaderError: Error, Equatable, CustomStringConvertible {
    case malformed(String)
    var description: String {
        switch self {
        case .malformed(let detail): "malformed XML: \(detail)"
        }
    }
}

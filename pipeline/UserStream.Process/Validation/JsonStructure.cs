namespace UserStream.Process.Validation;

/// <summary>
/// The structural checks no typed read can make: one JSON object and nothing after it, no deeper than
/// allowed, and no object with the same property twice (System.Text.Json would silently keep one).
/// A single forward pass over the bytes with <see cref="Utf8JsonReader"/>.
/// </summary>
internal static class JsonStructure
{
    /// <summary>An object with more names than this keeps them in a hash set (fewer are compared one by one).</summary>
    private const int LinearNames = 32;

    /// <summary>This thread's scratch space, reused from record to record (a record is checked on one thread).</summary>
    [ThreadStatic]
    private static Scratch? t_scratch;

    public static Rejection? Check(ReadOnlySpan<byte> json, int maxDepth)
    {
        var scratch = t_scratch ??= new Scratch();
        try
        {
            return Check(json, maxDepth, scratch);
        }
        finally
        {
            scratch.Reset();
        }
    }

    private static Rejection? Check(ReadOnlySpan<byte> json, int maxDepth, Scratch scratch)
    {
        // The reader's own limit sits above ours so that our check, with its own code, comes first.
        var reader = new Utf8JsonReader(json, new JsonReaderOptions
        {
            MaxDepth = maxDepth + 1,
            CommentHandling = JsonCommentHandling.Disallow,
            AllowTrailingCommas = false,
        });

        // Per open container (scratch.Containers, innermost last): where its property names start (objects) and
        // the name it was opened under; and the current name. Names are kept as UTF-8 in scratch.Bytes and made
        // into strings only for a rejection's path. A path is its container's path joined with the name that was
        // current when the container opened (which, inside an array, is the last name read, as it always was).
        var currentName = default(Name);
        try
        {
            if (!reader.Read())
            {
                return new Rejection(DeadLetterCodes.NotJson, "the value holds no JSON (only whitespace)");
            }

            if (reader.TokenType != JsonTokenType.StartObject)
            {
                return new Rejection(DeadLetterCodes.NotObject, $"the value is a JSON {Describe(reader.TokenType)}, not an object");
            }

            do
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                    case JsonTokenType.StartArray:
                        var container = new Container(
                            reader.TokenType == JsonTokenType.StartObject, scratch.Names.Count, scratch.Containers.Count == 0 ? default : currentName);
                        if (reader.CurrentDepth >= maxDepth)
                        {
                            return new Rejection(
                                DeadLetterCodes.TooDeep, $"objects and arrays nest deeper than {maxDepth} levels (at '{scratch.PathOfNew(container.OpenedUnder)}')");
                        }

                        scratch.Containers.Add(container);
                        currentName = default;
                        break;

                    case JsonTokenType.EndObject:
                    case JsonTokenType.EndArray:
                        scratch.Pop();
                        break;

                    case JsonTokenType.PropertyName:
                        currentName = scratch.Read(ref reader);
                        if (!scratch.Add(currentName))
                        {
                            return new Rejection(
                                DeadLetterCodes.DuplicateProperty,
                                $"property '{Join(scratch.PathOfInnermost(), scratch.Text(currentName))}' appears more than once");
                        }

                        break;
                }
            }
            while (scratch.Containers.Count > 0 && reader.Read());

            if (scratch.Containers.Count > 0)
            {
                return new Rejection(DeadLetterCodes.NotJson, "the JSON object is not closed");
            }
        }
        catch (JsonException e)
        {
            return new Rejection(DeadLetterCodes.NotJson, $"not well-formed JSON: {e.Message}");
        }
        catch (InvalidOperationException)
        {
            // GetString on a name escaping half a surrogate pair ("\ud800").
            return new Rejection(DeadLetterCodes.NotUtf8, "a property name escapes an invalid UTF-16 sequence");
        }

        foreach (var b in json[(int)reader.BytesConsumed..])
        {
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r'))
            {
                return new Rejection(DeadLetterCodes.TrailingData, $"data follows the JSON object at byte {reader.BytesConsumed}");
            }
        }

        return null;
    }

    private static string Join(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";

    /// <summary>A property name: its UTF-8 bytes (unescaped) at <see cref="Start"/> in <see cref="Scratch.Bytes"/>.</summary>
    private readonly record struct Name(int Start, int Length);

    /// <param name="IsObject">An object (its names are checked), not an array.</param>
    /// <param name="FirstName">Index in <see cref="Scratch.Names"/> of its first property name.</param>
    /// <param name="OpenedUnder">The name current when it opened (empty for the outermost object).</param>
    private readonly record struct Container(bool IsObject, int FirstName, Name OpenedUnder);

    private sealed class Scratch
    {
        /// <summary>Scratch space above this is not kept for the next record.</summary>
        private const int KeptBytes = 64 * 1024;

        private byte[] _bytes = new byte[1024];
        private int _used;

        /// <summary>Hash sets of the open objects with many names, by depth (created when needed).</summary>
        private readonly List<HashSet<string>?> _large = [];

        public List<Container> Containers { get; } = new(16);

        /// <summary>The names of the open objects, outermost first.</summary>
        public List<Name> Names { get; } = new(64);

        /// <summary>The current property name, unescaped (GetString's exceptions for names that are no text included).</summary>
        public Name Read(ref Utf8JsonReader reader)
        {
            if (reader.ValueIsEscaped || reader.HasValueSequence)
            {
                var text = reader.GetString()!;
                var start = Reserve(Encoding.UTF8.GetMaxByteCount(text.Length));
                var length = Encoding.UTF8.GetBytes(text, _bytes.AsSpan(start));
                _used += length;
                return new Name(start, length);
            }

            var raw = reader.ValueSpan;
            var at = Reserve(raw.Length);
            raw.CopyTo(_bytes.AsSpan(at));
            _used += raw.Length;
            return new Name(at, raw.Length);
        }

        /// <summary>Adds <paramref name="name"/> to the innermost object's names; false when it has it already.</summary>
        public bool Add(Name name)
        {
            var depth = Containers.Count - 1;
            var first = Containers[depth].FirstName;
            var count = Names.Count - first;
            if (count < LinearNames)
            {
                var span = Span(name);
                for (var i = first; i < Names.Count; i++)
                {
                    if (Span(Names[i]).SequenceEqual(span))
                    {
                        return false;
                    }
                }

                Names.Add(name);
                return true;
            }

            while (_large.Count <= depth)
            {
                _large.Add(null);
            }

            var set = _large[depth];
            if (set is null)
            {
                set = new HashSet<string>(StringComparer.Ordinal);
                for (var i = first; i < Names.Count; i++)
                {
                    set.Add(Text(Names[i]));
                }

                _large[depth] = set;
            }

            if (!set.Add(Text(name)))
            {
                return false;
            }

            Names.Add(name);
            return true;
        }

        public void Pop()
        {
            var depth = Containers.Count - 1;
            var container = Containers[depth];
            if (container.IsObject)
            {
                // Its names' bytes stay: the current name may still be one of them.
                Names.RemoveRange(container.FirstName, Names.Count - container.FirstName);
                if (depth < _large.Count)
                {
                    _large[depth] = null;
                }
            }

            Containers.RemoveAt(depth);
        }

        /// <summary>The innermost open container's path as the rejections write it: the names it nests under, joined with dots.</summary>
        public string PathOfInnermost()
        {
            var path = "";
            for (var depth = 1; depth < Containers.Count; depth++)
            {
                path = Join(path, Text(Containers[depth].OpenedUnder));
            }

            return path;
        }

        /// <summary>The path of a container about to open under <paramref name="name"/>.</summary>
        public string PathOfNew(Name name) => Containers.Count == 0 ? "" : Join(PathOfInnermost(), Text(name));

        public string Text(Name name) => Encoding.UTF8.GetString(Span(name));

        public void Reset()
        {
            Containers.Clear();
            Names.Clear();
            _large.Clear();
            _used = 0;
            if (_bytes.Length > KeptBytes)
            {
                _bytes = new byte[1024];
            }
        }

        private ReadOnlySpan<byte> Span(Name name) => _bytes.AsSpan(name.Start, name.Length);

        private int Reserve(int length)
        {
            if (_used + length > _bytes.Length)
            {
                Array.Resize(ref _bytes, Math.Max(_bytes.Length * 2, _used + length));
            }

            return _used;
        }
    }

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartArray => "array",
        JsonTokenType.String => "string",
        JsonTokenType.Number => "number",
        JsonTokenType.True or JsonTokenType.False => "boolean",
        JsonTokenType.Null => "null",
        _ => token.ToString(),
    };
}

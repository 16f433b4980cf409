namespace UserStream.Process.Validation;

/// <summary>
/// The structural checks no typed read can make: one JSON object and nothing after it, no deeper than
/// allowed, and no object with the same property twice (System.Text.Json would silently keep one).
/// A single forward pass over the bytes with <see cref="Utf8JsonReader"/>.
/// </summary>
internal static class JsonStructure
{
    public static Rejection? Check(ReadOnlySpan<byte> json, int maxDepth)
    {
        // The reader's own limit sits above ours so that our check, with its own code, comes first.
        var reader = new Utf8JsonReader(json, new JsonReaderOptions
        {
            MaxDepth = maxDepth + 1,
            CommentHandling = JsonCommentHandling.Disallow,
            AllowTrailingCommas = false,
        });

        // Per open container: the property names seen so far (null for arrays) and the current name.
        var containers = new Stack<(HashSet<string>? Names, string Path)>();
        var currentName = "";
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
                        var path = containers.Count == 0 ? "" : Join(containers.Peek().Path, currentName);
                        if (reader.CurrentDepth >= maxDepth)
                        {
                            return new Rejection(DeadLetterCodes.TooDeep, $"objects and arrays nest deeper than {maxDepth} levels (at '{path}')");
                        }

                        containers.Push((reader.TokenType == JsonTokenType.StartObject ? new HashSet<string>(StringComparer.Ordinal) : null, path));
                        currentName = "";
                        break;

                    case JsonTokenType.EndObject:
                    case JsonTokenType.EndArray:
                        containers.Pop();
                        break;

                    case JsonTokenType.PropertyName:
                        currentName = reader.GetString()!;
                        if (!containers.Peek().Names!.Add(currentName))
                        {
                            return new Rejection(
                                DeadLetterCodes.DuplicateProperty,
                                $"property '{Join(containers.Peek().Path, currentName)}' appears more than once");
                        }

                        break;
                }
            }
            while (containers.Count > 0 && reader.Read());

            if (containers.Count > 0)
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

using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http.HttpResults;

namespace RecApp.Api.Validation;

/// <summary>
/// Reads a JSON request body with the source-generated contract, so every client mistake becomes a problem
/// answer naming the field: malformed JSON or a wrong type (400, with the JSON path), a missing body (400),
/// a body over the limit (413). Minimal APIs' own binding answers such mistakes with an empty 400.
/// </summary>
public static class JsonBody
{
    /// <summary>Largest accepted request body (1 MiB); Kestrel enforces the same limit on the wire.</summary>
    public const long MaxBytes = 1024 * 1024;

    public static ValueTask<(T? Value, ProblemHttpResult? Problem)> ReadAsync<T>(
        HttpRequest request, JsonTypeInfo<T> typeInfo) where T : class =>
        ReadAsync(request, body => Parse(body, typeInfo));

    /// <summary>Reads the whole body (bounded, without copying) and hands it to <paramref name="parse"/>.</summary>
    public static async ValueTask<(T? Value, ProblemHttpResult? Problem)> ReadAsync<T>(
        HttpRequest request, Func<ReadOnlySequence<byte>, (T? Value, ProblemHttpResult? Problem)> parse) where T : class
    {
        if (request.ContentLength > MaxBytes)
        {
            return (null, TooLarge());
        }

        var reader = request.BodyReader;
        ReadResult read;
        try
        {
            while (true)
            {
                read = await reader.ReadAsync(request.HttpContext.RequestAborted);
                if (read.Buffer.Length > MaxBytes)
                {
                    reader.AdvanceTo(read.Buffer.End);
                    return (null, TooLarge());
                }
                if (read.IsCompleted)
                {
                    break;
                }
                reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
            }
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, TooLarge());
        }

        try
        {
            return parse(read.Buffer);
        }
        finally
        {
            reader.AdvanceTo(read.Buffer.End);
        }
    }

    /// <summary>Parses a complete body; also used for bodies whose top level may be an object or an array.</summary>
    public static (T? Value, ProblemHttpResult? Problem) Parse<T>(ReadOnlySequence<byte> body, JsonTypeInfo<T> typeInfo) where T : class
    {
        if (IsBlank(body))
        {
            return (null, Problems.Field("body", "A JSON request body is required."));
        }
        try
        {
            var json = new Utf8JsonReader(body);
            var value = JsonSerializer.Deserialize(ref json, typeInfo);
            return value is null
                ? (null, Problems.Field("body", "The request body must be a JSON object, not null."))
                : (value, null);
        }
        catch (JsonException ex)
        {
            return (null, Problems.Field(FieldName(ex.Path), Describe(ex)));
        }
    }

    /// <summary>The first significant JSON token of the body, to tell an object from an array.</summary>
    public static JsonTokenType FirstToken(ReadOnlySequence<byte> body)
    {
        var json = new Utf8JsonReader(body);
        try
        {
            return json.Read() ? json.TokenType : JsonTokenType.None;
        }
        catch (JsonException)
        {
            return JsonTokenType.None;
        }
    }

    private static ProblemHttpResult TooLarge() =>
        Problems.TooLarge("body", $"The request body is larger than {MaxBytes} bytes.");

    private static bool IsBlank(ReadOnlySequence<byte> body)
    {
        foreach (var segment in body)
        {
            foreach (var b in segment.Span)
            {
                if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
                {
                    return false;
                }
            }
        }
        return true;
    }

    /// <summary><c>$.filters.price_from</c> becomes <c>filters.price_from</c>; the root stays <c>body</c>.</summary>
    private static string FieldName(string? path)
    {
        if (string.IsNullOrEmpty(path) || path == "$")
        {
            return "body";
        }
        return path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
    }

    private static string Describe(JsonException ex)
    {
        // The serializer's messages name .NET types; keep the part a client can act on.
        if (ex.InnerException is FormatException or OverflowException || ex.Message.Contains("could not be converted", StringComparison.Ordinal))
        {
            return "The value has the wrong type or is out of range.";
        }
        if (ex.Message.Contains("missing required properties", StringComparison.Ordinal))
        {
            return ex.Message;
        }
        return ex.BytePositionInLine is { } position
            ? $"Malformed JSON at line {ex.LineNumber + 1}, position {position + 1}."
            : "Malformed JSON.";
    }
}

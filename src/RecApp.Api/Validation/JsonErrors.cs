using System.Text.Json;
using System.Text.RegularExpressions;

namespace RecApp.Api.Validation;

/// <summary>A JSON body error this API raises itself (a converter's rule), with a message meant for the client.</summary>
public sealed class ClientJsonException(string message, string path, Exception? inner = null)
    : JsonException(message, path, lineNumber: null, bytePositionInLine: null, inner);

/// <summary>
/// What a request the framework could not bind is about: the field (from the JSON path, or the parameter the
/// binder names) and a message a client can act on (the serializer's own messages name .NET types).
/// </summary>
public static partial class JsonErrors
{
    /// <summary><c>$.filters.price_from</c> becomes <c>filters.price_from</c>, <c>$[0]</c> becomes <c>[0]</c>; the root is <c>body</c>.</summary>
    public static string FieldName(string? path)
    {
        if (string.IsNullOrEmpty(path) || path == "$")
        {
            return "body";
        }
        var name = path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path[1..];
        // The serializer quotes names it cannot write plainly: $['a b'] → a b.
        return QuotedName().Replace(name, m => (m.Index == 0 ? "" : ".") + m.Groups[1].Value);
    }

    public static string Describe(JsonException ex)
    {
        if (ex is ClientJsonException)
        {
            return ex.Message;
        }
        if (ex.InnerException is FormatException or OverflowException or InvalidOperationException
            || ex.Message.Contains("could not be converted", StringComparison.Ordinal))
        {
            return "The value has the wrong type or is out of range.";
        }
        if (ex.Message.Contains("after a single JSON value", StringComparison.Ordinal))
        {
            return "Unexpected data after the JSON value.";
        }
        return ex.BytePositionInLine is { } position
            ? $"Malformed JSON at line {ex.LineNumber + 1}, position {position + 1}."
            : "Malformed JSON.";
    }

    /// <summary>
    /// The parameter a route or query binding failure names. The binder's messages (<c>Failed to bind parameter
    /// "long user_id" from "abc".</c>, <c>Required parameter "int id" was not provided …</c>) are the only place it
    /// says which; a body parameter is the body.
    /// </summary>
    public static string? BoundParameter(string message)
    {
        if (message.Contains("body", StringComparison.OrdinalIgnoreCase))
        {
            return "body";
        }
        var match = ParameterInMessage().Match(message);
        return match.Success ? WireFieldNames.Convert(match.Groups[1].Value) : null;
    }

    [GeneratedRegex(@"\['([^']*)'\]")]
    private static partial Regex QuotedName();

    [GeneratedRegex(@"parameter ""[^""]*?\s(\w+)""")]
    private static partial Regex ParameterInMessage();
}

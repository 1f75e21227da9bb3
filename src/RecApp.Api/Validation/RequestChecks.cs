namespace RecApp.Api.Validation;

/// <summary>Field checks shared by several endpoints.</summary>
public static class RequestChecks
{
    /// <summary>The canonical spelling of a value from a closed set (case-insensitive), or an error.</summary>
    public static string? Known(string? value, string[] known, string field, FieldErrors errors)
    {
        if (value is null)
        {
            return null;
        }
        var match = Array.Find(known, k => string.Equals(k, value, StringComparison.OrdinalIgnoreCase));
        if (match is null)
        {
            errors.Add(field, $"Unknown value '{value}'; expected one of: {string.Join(", ", known)}.");
        }
        return match;
    }

    /// <summary>An optional id: absent is fine, present must be positive.</summary>
    public static int? PositiveOrNull(int? value, string field, FieldErrors errors)
    {
        if (value <= 0)
        {
            errors.Add(field, "Must be a positive integer id.");
            return null;
        }
        return value;
    }
}

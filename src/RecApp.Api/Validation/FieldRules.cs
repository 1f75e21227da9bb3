using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace RecApp.Api.Validation;

/// <summary>An optional id: absent is fine, present must be positive.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class PositiveIdAttribute() : ValidationAttribute("Must be a positive integer id.")
{
    public override bool IsValid(object? value) => value switch
    {
        null => true,
        long id => id > 0,
        int id => id > 0,
        _ => false,
    };
}

/// <summary>
/// Text PostgreSQL can store: no NUL character (it cannot hold one, 22021), so it is refused by name here rather
/// than failing the statement. Applies to a string or to every string of an array.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class StorableTextAttribute() : ValidationAttribute("Must not contain a NUL (\\u0000) character.")
{
    public override bool IsValid(object? value) => value switch
    {
        null => true,
        string text => !text.Contains('\0'),
        IEnumerable<string?> texts => texts.All(t => t is null || !t.Contains('\0')),
        _ => false,
    };
}

/// <summary>Present means at least one non-blank character (a whitespace-only name is as good as none).</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class NotBlankAttribute() : ValidationAttribute("Must not be empty or blank.")
{
    public override bool IsValid(object? value) => value is not string text || !string.IsNullOrWhiteSpace(text);
}

/// <summary>What cross-field rules (<see cref="IValidatableObject"/>) need from the request's services.</summary>
internal static class ValidationServices
{
    /// <summary>The serving options; their defaults when validation runs without services (a unit test).</summary>
    public static ApiOptions ApiOptions(this ValidationContext context) =>
        (context.GetService(typeof(IOptionsMonitor<ApiOptions>)) as IOptionsMonitor<ApiOptions>)?.CurrentValue ?? new ApiOptions();

    /// <summary>The canonical spelling of a value from a closed set (case-insensitive), or null.</summary>
    public static string? Canonical(string? value, string[] known) =>
        value is null ? null : Array.Find(known, k => string.Equals(k, value, StringComparison.OrdinalIgnoreCase));

    public static ValidationResult? CheckKnown(string? value, string[] known, string member) =>
        value is not null && Canonical(value, known) is null
            ? new ValidationResult($"Unknown value '{value}'; expected one of: {string.Join(", ", known)}.", [member])
            : null;
}

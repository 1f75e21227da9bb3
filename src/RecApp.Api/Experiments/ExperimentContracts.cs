using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using RecApp.Data.Experiments;

namespace RecApp.Api.Experiments;

/// <summary><c>POST /admin/experiments</c>: a draft experiment. The first variant is the control.</summary>
public sealed record ExperimentRequest(string? Name, string? Surface, VariantRequest[]? Variants) : IValidatableObject
{
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Name is null || !ExperimentNames.IsValid(Name))
        {
            yield return new("Required: 1-64 characters of a-z, 0-9, '-' and '_', starting with a letter or digit.", ["name"]);
        }
        // The service contract's /popular and /items/{id}/similar carry no user id to assign by, so only personalized answers
        // can be split by user.
        if (!string.Equals(Surface, "personalized", StringComparison.OrdinalIgnoreCase))
        {
            yield return new("Required: personalized (the only surface whose requests name a user).", ["surface"]);
        }
        if (Variants is null || Variants.Length is < 2 or > 10)
        {
            yield return new("Between 2 and 10 variants; the first is the control.", ["variants"]);
            yield break;
        }
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < Variants.Length; i++)
        {
            var variant = Variants[i];
            if (variant is null)
            {
                yield return new("Required.", [$"variants[{i}]"]);
                continue;
            }
            if (variant.Name is null || !ExperimentNames.IsValid(variant.Name) || !names.Add(variant.Name))
            {
                yield return new("A unique name of 1-64 characters of a-z, 0-9, '-' and '_'.", [$"variants[{i}].name"]);
            }
            if (variant.Share is not (>= 1 and <= 99))
            {
                yield return new("A share of the traffic between 1 and 99 (percent).", [$"variants[{i}].share"]);
            }
            foreach (var error in variant.SettingErrors())
            {
                yield return new(error, [$"variants[{i}].settings"]);
            }
        }
        if (Variants.All(v => v?.Share is not null) && Variants.Sum(v => v.Share!.Value) != 100)
        {
            yield return new("The variants' shares must add up to 100.", ["variants"]);
        }
    }
}

public sealed record VariantRequest(string? Name, int? Share, Dictionary<string, string>? Settings)
{
    internal IEnumerable<string> SettingErrors()
    {
        if (Settings is null or { Count: 0 })
        {
            yield break;
        }
        string? error = null;
        try
        {
            VariantRecommenders.SettingsFor(new ConfigurationBuilder().Build(), Settings);
        }
        catch (InvalidOperationException ex)
        {
            error = ex.Message;
        }
        if (error is not null)
        {
            yield return error;
        }
    }
}

internal static partial class ExperimentNames
{
    public static bool IsValid(string name) => Pattern().IsMatch(name);

    [System.Text.RegularExpressions.GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,63}$")]
    private static partial System.Text.RegularExpressions.Regex Pattern();
}

public sealed record ExperimentResponse(
    string Name, string Surface, string Status, VariantResponse[] Variants,
    DateTimeOffset CreatedAt, DateTimeOffset? StartedAt, DateTimeOffset? StoppedAt, ExperimentResults? Results)
{
    internal static ExperimentResponse From(ExperimentDefinition e, ExperimentResults? results = null) => new(
        e.Name, ExperimentStore.Surface(e.Surface), e.Status.ToString().ToLowerInvariant(),
        [.. e.Variants.Select(v => new VariantResponse(v.Name, v.SharePercent, v.Settings))],
        e.CreatedAt, e.StartedAt, e.StoppedAt, results);
}

public sealed record VariantResponse(string Name, int Share, IReadOnlyDictionary<string, string> Settings);

/// <summary>What an experiment measured so far, and what the decision rule says.</summary>
public sealed record ExperimentResults(
    double AttributionWindowHours, string DecisionRule, string? CtrWinner, string? ConversionWinner, VariantResult[] Variants);

public sealed record VariantResult(
    string Variant, long Users, long Exposures, RateResult Ctr, RateResult Conversion, double EngagementsPerUser);

/// <summary>A per-user rate with its 95% interval and, for a non-control variant, the test against the control.</summary>
public sealed record RateResult(
    long Successes, double Rate, double Low, double High,
    double? RelativeLift, double? Z, double? PValue, bool? Significant);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(ExperimentRequest))]
[JsonSerializable(typeof(ExperimentResponse))]
[JsonSerializable(typeof(ExperimentResponse[]))]
internal sealed partial class ExperimentJsonContext : JsonSerializerContext;

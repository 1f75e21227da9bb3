using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace RecApp.Engine;

/// <summary>
/// Validates <see cref="RecommendationOptions"/> at start-up: every member's DataAnnotations, sections included
/// (<see cref="RecommendationOptionsAnnotations"/>, generated at compile time), then the rules across settings. Each
/// failure names the configuration key (<c>Recommendations:Scoring:MaxResults</c>), not the C# member path.
/// </summary>
public sealed partial class RecommendationOptionsValidator : IValidateOptions<RecommendationOptions>
{
    private static readonly RecommendationOptionsAnnotations Annotations = new();

    public ValidateOptionsResult Validate(string? name, RecommendationOptions options)
    {
        var failures = Failures(options).ToList();
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>What start-up would reject in <paramref name="options"/>; empty when valid.</summary>
    public static IEnumerable<string> Failures(RecommendationOptions options)
    {
        var annotations = Annotations.Validate(null, options);
        if (annotations.Failed)
        {
            foreach (var failure in annotations.Failures ?? [])
            {
                yield return MemberPath().Replace(failure, path => RecommendationOptions.SectionName + ":" + path.Groups[1].Value.Replace('.', ':'));
            }
        }
        var scoring = options.Scoring;
        if (scoring.CollaborativeWeight + scoring.ContentWeight + scoring.PopularityWeight <= 0)
        {
            yield return $"{RecommendationOptions.SectionName}:Scoring:CollaborativeWeight, ContentWeight and PopularityWeight must not all be 0.";
        }
    }

    [GeneratedRegex(@"\bRecommendationOptions\.([\w.]+\w)")]
    private static partial Regex MemberPath();
}

/// <summary>The DataAnnotations of every <see cref="RecommendationOptions"/> section, checked without reflection.</summary>
[OptionsValidator]
internal sealed partial class RecommendationOptionsAnnotations : IValidateOptions<RecommendationOptions>;

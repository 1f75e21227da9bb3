using System.ComponentModel.DataAnnotations;

namespace RecApp.Api.Validation;

/// <summary>The page rules every list request shares: <c>page</c> from 1, <c>limit</c> from 1 to <c>Api:MaxPageSize</c>.</summary>
internal static class Paging
{
    public static IEnumerable<ValidationResult> Check(int? page, int? limit, ApiOptions options, string pageMember, string limitMember)
    {
        if (page < 1)
        {
            yield return new ValidationResult("Must be 1 or more.", [pageMember]);
        }
        if (limit < 1 || limit > options.MaxPageSize)
        {
            yield return new ValidationResult($"Must be between 1 and {options.MaxPageSize}.", [limitMember]);
        }
    }

    public static (int Page, int Limit) Resolve(int? page, int? limit, ApiOptions options) => (page ?? 1, limit ?? options.DefaultPageSize);
}

using System.Security.Cryptography;
using System.Text;

namespace RecApp.Api.Admin;

/// <summary>
/// Admin endpoints need header <c>X-Admin-Key</c> equal to <c>Admin:ApiKey</c>. With no key configured they are
/// refused outright (403), never open. The comparison takes the same time whatever the key, so timing does not
/// reveal how much of it a guess got right.
/// </summary>
internal sealed class AdminKeyFilter(IConfiguration configuration, AdminKeyGuesses guesses) : IEndpointFilter
{
    public const string Header = "X-Admin-Key";
    public const string ConfigurationKey = "Admin:ApiKey";

    public static bool IsConfigured(IConfiguration configuration) => !string.IsNullOrEmpty(configuration[ConfigurationKey]);

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var expected = configuration[ConfigurationKey];
        if (string.IsNullOrEmpty(expected))
        {
            return TypedResults.Problem(
                $"Admin endpoints are disabled: set {ConfigurationKey} to enable them.",
                statusCode: StatusCodes.Status403Forbidden, title: "Admin endpoints disabled.");
        }
        var given = context.HttpContext.Request.Headers[Header];
        if (given.Count != 1 || !Matches(given[0] ?? "", expected))
        {
            if (!guesses.TryCount(context.HttpContext))
            {
                context.HttpContext.Response.Headers.RetryAfter = "60";
                return TypedResults.Problem(
                    "Too many wrong admin keys from this address; retry later.", statusCode: StatusCodes.Status429TooManyRequests,
                    title: "Too many requests.", type: "https://www.rfc-editor.org/rfc/rfc6585#section-4");
            }
            return TypedResults.Problem(
                $"Header {Header} is missing or wrong.", statusCode: StatusCodes.Status401Unauthorized, title: "Admin key required.");
        }
        return await next(context);
    }

    /// <summary>Hashing first gives equal-length inputs, so even the length of the key does not leak.</summary>
    private static bool Matches(string given, string expected) =>
        CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(given)), SHA256.HashData(Encoding.UTF8.GetBytes(expected)));
}

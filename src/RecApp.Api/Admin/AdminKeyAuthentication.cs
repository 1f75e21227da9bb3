using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace RecApp.Api.Admin;

/// <summary>Section <c>Admin</c>.</summary>
public sealed class AdminOptions
{
    public const string SectionName = "Admin";

    /// <summary>The operators' key (header <c>X-Admin-Key</c>). Unset: every admin route answers 403, never open.</summary>
    public string? ApiKey { get; set; }

    public bool IsConfigured => !string.IsNullOrEmpty(ApiKey);
}

/// <summary>
/// The <c>X-Admin-Key</c> authentication scheme and the policy every operator route requires. Authentication runs in
/// the framework's middleware, before the endpoint binds or validates anything: a request without the right key learns
/// nothing about its body. Failed attempts (no key or a wrong one) are limited per client address by
/// <see cref="AdminKeyFailures"/>; a request with the right key is never refused for anyone's failures.
/// </summary>
public static class AdminKey
{
    public const string Scheme = "AdminKey";
    public const string Header = "X-Admin-Key";

    /// <summary>The authorization policy of every admin-key route (<c>/admin/*</c>, the console's data, experiments).</summary>
    public const string Policy = "operator";

    /// <summary>The admin key's scheme and policy, the failure limit, and what the admin routes write (refresh requests).</summary>
    public static IHostApplicationBuilder AddAdmin(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<RecApp.Data.Jobs.RefreshRequestStore>();
        builder.Services.AddOptions<AdminOptions>().BindConfiguration(AdminOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<AdminKeyFailures>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<AdminKeyFailures>());
        // No default scheme: only the admin routes' policy authenticates, so a public request never runs the handler
        // (with one scheme registered the framework would otherwise make it the default and authenticate every request,
        // twice on an admin route). The framework's documented switch; set in code so the test host gets it too.
        AppContext.SetSwitch("Microsoft.AspNetCore.Authentication.SuppressAutoDefaultScheme", true);
        builder.Services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, AdminKeyAuthenticationHandler>(Scheme, null);
        builder.Services.AddAuthorizationBuilder().AddPolicy(Policy, policy => policy
            .AddAuthenticationSchemes(Scheme)
            .RequireAuthenticatedUser());
        return builder;
    }
}

/// <summary>Checks <c>X-Admin-Key</c>; answers refusals as problems (401, 403 when no key is configured, 429 past the failure limit).</summary>
internal sealed class AdminKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IOptionsMonitor<AdminOptions> admin,
    AdminKeyFailures failures,
    IProblemDetailsService problems) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    private static readonly ClaimsPrincipal s_operator = new(new ClaimsIdentity([new Claim(ClaimTypes.Name, "operator")], AdminKey.Scheme));

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var expected = admin.CurrentValue.ApiKey;
        if (string.IsNullOrEmpty(expected) || !Request.Headers.TryGetValue(AdminKey.Header, out var given))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }
        return Task.FromResult(given.Count == 1 && Matches(given[0] ?? "", expected)
            ? AuthenticateResult.Success(new AuthenticationTicket(s_operator, AdminKey.Scheme))
            : AuthenticateResult.Fail($"Wrong {AdminKey.Header}."));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (!admin.CurrentValue.IsConfigured)
        {
            await WriteAsync(StatusCodes.Status403Forbidden, "Admin endpoints disabled.",
                $"Admin endpoints are disabled: set {AdminOptions.SectionName}:{nameof(AdminOptions.ApiKey)} to enable them.");
            return;
        }
        if (failures.Count(Context) is { } retryAfter)
        {
            Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            await WriteAsync(StatusCodes.Status429TooManyRequests, "Too many requests.",
                "Too many requests without a valid admin key from this address; retry later.");
            return;
        }
        Response.Headers.WWWAuthenticate = $"{AdminKey.Scheme} header=\"{AdminKey.Header}\"";
        await WriteAsync(StatusCodes.Status401Unauthorized, "Admin key required.", $"Header {AdminKey.Header} is missing or wrong.");
    }

    private async Task WriteAsync(int status, string title, string detail)
    {
        Response.StatusCode = status;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        });
    }

    /// <summary>Hashing first gives equal-length inputs, so even the length of the key does not leak through timing.</summary>
    private static bool Matches(string given, string expected) =>
        CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(given)), SHA256.HashData(Encoding.UTF8.GetBytes(expected)));
}

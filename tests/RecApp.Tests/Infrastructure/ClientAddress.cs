using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace RecApp.Tests.Infrastructure;

/// <summary>
/// The test server has no remote address (no socket): this sets one on every request, ahead of the API's own
/// middleware, so per-address behaviour (rate limits, failed admin keys) can be tested for a chosen caller.
/// </summary>
public sealed class ClientAddress(IPAddress address) : IStartupFilter
{
    public static WebApplicationFactory<Program> On(WebApplicationFactory<Program> api, string address) =>
        api.WithWebHostBuilder(builder => builder.ConfigureServices(services =>
            services.AddSingleton<IStartupFilter>(new ClientAddress(IPAddress.Parse(address)))));

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use((context, following) =>
        {
            context.Connection.RemoteIpAddress = address;
            return following(context);
        });
        next(app);
    };
}

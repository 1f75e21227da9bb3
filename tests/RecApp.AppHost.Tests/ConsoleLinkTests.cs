using Aspire.Hosting.Testing;

namespace RecApp.AppHost.Tests;

/// <summary>The operator console is a link of its own on the api resource (the dashboard shows it), and it answers.</summary>
[Collection(RunningApplicationCollection.Name)]
public sealed class ConsoleLinkTests(RunningApplication application)
{
    [Fact]
    public async Task The_api_resource_links_the_console_and_the_link_serves_the_page()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var update = await application.App.ResourceNotifications.WaitForResourceAsync(RunningApplication.Api,
            e => e.Snapshot.Urls.Any(u => u.DisplayProperties.DisplayName == "Console"), timeout.Token);
        var console = new Uri(update.Snapshot.Urls.First(u => u.DisplayProperties.DisplayName == "Console").Url);

        using var client = application.App.CreateHttpClient(RunningApplication.Api);
        var page = await client.GetStringAsync(console.AbsolutePath, timeout.Token);

        Assert.Equal("/console/", console.AbsolutePath);
        Assert.Equal(client.BaseAddress!.Port, console.Port); // the link is on the proxy's endpoint
        Assert.Contains("<title>RecApp console</title>", page);
    }
}

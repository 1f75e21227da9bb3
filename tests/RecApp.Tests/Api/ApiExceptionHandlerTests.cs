using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using RecApp.Api.Validation;

namespace RecApp.Tests.Api;

/// <summary>How the last-resort handler classifies failures (pure logic).</summary>
public sealed class ApiExceptionHandlerTests
{
    [Theory]
    [InlineData("22021", true)]  // character not in repertoire (a NUL in text)
    [InlineData("22001", true)]  // string data right truncation
    [InlineData("22P02", true)]  // invalid text representation
    [InlineData("23505", false)] // unique violation: not the client's data
    [InlineData("42P01", false)] // undefined table: a server fault
    public void Only_data_exceptions_count_as_rejected_client_data(string sqlState, bool rejected)
    {
        var postgres = new PostgresException("message", "ERROR", "ERROR", sqlState);

        Assert.Equal(rejected, ApiExceptionHandler.IsRejectedData(postgres));
        Assert.Equal(rejected, ApiExceptionHandler.IsRejectedData(new InvalidOperationException("wrapped", postgres)));
        Assert.False(ApiExceptionHandler.IsDatabaseOutage(postgres));
    }

    [Fact]
    public async Task An_unhandled_error_is_logged_as_an_error_and_answered_500()
    {
        // .NET 10's exception middleware stays silent when a handler takes the exception, so the handler must log.
        var logged = new RecordingLogger();
        await using var services = new ServiceCollection().AddLogging().AddProblemDetails().BuildServiceProvider();
        var context = new DefaultHttpContext { RequestServices = services };
        context.Request.Method = "POST";
        context.Request.Path = "/interactions";
        context.Response.Body = new MemoryStream();
        var handler = new ApiExceptionHandler(services.GetRequiredService<IProblemDetailsService>(), Outages(), logged);

        var handled = await handler.TryHandleAsync(context, new InvalidOperationException("boom"), CancellationToken.None);

        Assert.True(handled);
        Assert.Equal(500, context.Response.StatusCode);
        var entry = Assert.Single(logged.Entries, e => e.Level == LogLevel.Error);
        Assert.IsType<InvalidOperationException>(entry.Exception);
        Assert.Contains("/interactions", entry.Message);
    }

    [Theory]
    [InlineData(true, "may or may not have been stored")]
    [InlineData(false, "nothing was stored")]
    public async Task A_write_outage_says_what_is_known_about_the_events_and_to_retry_with_the_same_event_id(bool mayBeStored, string says)
    {
        await using var services = new ServiceCollection().AddLogging().AddProblemDetails().BuildServiceProvider();
        var context = new DefaultHttpContext { RequestServices = services };
        context.Request.Method = "POST";
        context.Request.Path = "/interactions";
        context.Response.Body = new MemoryStream();
        var handler = new ApiExceptionHandler(services.GetRequiredService<IProblemDetailsService>(), Outages(), new RecordingLogger());
        var failure = new RecApp.Api.Interactions.InteractionsNotConfirmedException(mayBeStored, new NpgsqlException("connection lost"));

        await handler.TryHandleAsync(context, failure, CancellationToken.None);

        Assert.Equal(503, context.Response.StatusCode);
        Assert.Equal("5", context.Response.Headers.RetryAfter.ToString());
        context.Response.Body.Position = 0;
        var detail = System.Text.Json.JsonDocument.Parse(context.Response.Body).RootElement.GetProperty("detail").GetString();
        Assert.Contains(says, detail);
        Assert.Contains("same event_id", detail);
    }

    private sealed class RecordingLogger : ILogger<ApiExceptionHandler>
    {
        public List<(LogLevel Level, string Message, Exception? Exception)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Add((logLevel, formatter(state, exception), exception));
    }

    private static RecApp.Api.DatabaseOutageLog Outages() =>
        new(TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<RecApp.Api.DatabaseOutageLog>.Instance);
}

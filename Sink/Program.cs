using UserStream.Services.Sink;
using UserStream.Sink;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapSinkEndpoints();

app.Run();
